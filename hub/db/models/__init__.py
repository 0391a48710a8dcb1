"""ORM models, one module per area; importing this package registers every table."""

from hub.db.models.agencies import Agency, CatalogVariable, EnrollmentToken
from hub.db.models.audit import AuditCheckpoint, AuditEvent, AuditHead
from hub.db.models.extracts import (
    Extract,
    ExtractDecision,
    ExtractKey,
    OutputReview,
    OutputSubmission,
)
from hub.db.models.identity import ApiToken, User
from hub.db.models.jobs import Job
from hub.db.models.requests import AgencyDecision, Request, RequestAgency, Review
from hub.db.models.runs import LinkageRun, RunCluster, RunLink
from hub.db.models.security import SeenNonce
from hub.db.models.web import WebSession

__all__ = [
    "Agency",
    "AgencyDecision",
    "ApiToken",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditHead",
    "CatalogVariable",
    "EnrollmentToken",
    "Extract",
    "ExtractDecision",
    "ExtractKey",
    "Job",
    "LinkageRun",
    "OutputReview",
    "OutputSubmission",
    "Request",
    "RequestAgency",
    "Review",
    "RunCluster",
    "RunLink",
    "SeenNonce",
    "User",
    "WebSession",
]
