"""ORM models, one module per area; importing this package registers every table."""

from hub.db.models.accounts import AccountApproval, ConflictDeclaration, Invitation
from hub.db.models.agencies import Agency, CatalogVariable, EnrollmentToken
from hub.db.models.audit import AuditCheckpoint, AuditEvent, AuditHead
from hub.db.models.extracts import (
    Extract,
    ExtractDecision,
    ExtractKey,
    OutputReview,
    OutputSubmission,
)
from hub.db.models.findings import FindingsComment, FindingsReport, Publication
from hub.db.models.governance import (
    GovernanceDecisionRecord,
    GovernanceKey,
    GovernanceRoster,
    RevocationRecord,
)
from hub.db.models.identity import ApiToken, User
from hub.db.models.incidents import Incident, IncidentNodeEvent, IncidentNotification
from hub.db.models.jobs import Job
from hub.db.models.policy import AgendaItem, ReviewCriterionAnswer
from hub.db.models.purge import RunPurge
from hub.db.models.requests import (
    AgencyDecision,
    AgreementVersion,
    Request,
    RequestAgency,
    Review,
)
from hub.db.models.runs import LinkageRun, RunCluster, RunLink
from hub.db.models.security import SeenNonce
from hub.db.models.tlog import NodeLogCheckpoint, TlogCheckpoint, TlogCosignature
from hub.db.models.training import TrainingRecord
from hub.db.models.web import WebSession

__all__ = [
    "AccountApproval",
    "Agency",
    "AgencyDecision",
    "AgendaItem",
    "AgreementVersion",
    "ApiToken",
    "AuditCheckpoint",
    "AuditEvent",
    "AuditHead",
    "CatalogVariable",
    "ConflictDeclaration",
    "EnrollmentToken",
    "Extract",
    "ExtractDecision",
    "ExtractKey",
    "FindingsComment",
    "FindingsReport",
    "GovernanceDecisionRecord",
    "GovernanceKey",
    "GovernanceRoster",
    "Incident",
    "IncidentNodeEvent",
    "IncidentNotification",
    "Invitation",
    "Job",
    "LinkageRun",
    "NodeLogCheckpoint",
    "OutputReview",
    "OutputSubmission",
    "Publication",
    "Request",
    "RequestAgency",
    "Review",
    "ReviewCriterionAnswer",
    "RevocationRecord",
    "RunCluster",
    "RunLink",
    "RunPurge",
    "SeenNonce",
    "TlogCheckpoint",
    "TlogCosignature",
    "TrainingRecord",
    "User",
    "WebSession",
]
