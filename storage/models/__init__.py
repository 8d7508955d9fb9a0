"""All ORM models; importing this package registers every table on ``Base.metadata``."""

from storage.models.base import Base, UTCDateTime
from storage.models.org import (
    Building,
    Community,
    CommunityAdmin,
    Grid,
    InviteCode,
    NeighbourGroup,
    Person,
    Street,
)
from storage.models.outbox import OutboxMessage
from storage.models.reports import CaptainAway, Report, ReportEvent, ReportFollower, ReportPhoto

__all__ = [
    "Base",
    "Building",
    "CaptainAway",
    "Community",
    "CommunityAdmin",
    "Grid",
    "InviteCode",
    "NeighbourGroup",
    "OutboxMessage",
    "Person",
    "Report",
    "ReportEvent",
    "ReportFollower",
    "ReportPhoto",
    "Street",
    "UTCDateTime",
]
