"""The body and answer of the training routes (safe people, hub.services.training)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hub.api.schemas_views import Date, Time, View


class TrainingCreate(BaseModel):
    """One completion of a training, as governance staff record it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    training: Annotated[str, Field(min_length=1, max_length=100)] = Field(
        description="The training's name, as `required_training` in hub.toml names it",
        examples=["data-privacy"])
    completed_on: dt.date = Field(description="When the person completed it (not in the "
                                  "future)", examples=["2026-11-30"])
    expires_on: dt.date = Field(description="The last day it counts (inclusive; not before "
                                "`completed_on`)", examples=["2027-11-30"])


class TrainingView(View):
    """A person's completion of one training."""

    id: int = Field(description="The record's id", examples=[3])
    user_id: int = Field(description="Whose training it is", examples=[7])
    training: str = Field(description="The training's name", examples=["data-privacy"])
    completed_on: Date = Field(description="When it was completed")
    expires_on: Date = Field(description="The last day it counts (inclusive)")
    recorded_by: str = Field(description="The audit actor who recorded it",
                             examples=["user:2"])
    recorded_at: Time = Field(description="When it was recorded")
    current: bool = Field(description="true while today (UTC) is within completed_on through "
                          "expires_on")
