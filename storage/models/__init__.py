"""All ORM models; importing this package registers every table on ``Base.metadata``."""

from storage.models.base import Base, UTCDateTime
from storage.models.faq import FaqFeedback, FaqLocalEntry, FaqQuestion, FaqUnanswered
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
from storage.models.schedule import (
    CheckIn,
    CommunitySchedule,
    HolidayOverride,
    Meeting,
    MeetingOccurrence,
    MeetingRsvp,
)
from storage.models.state import BotState

__all__ = [
    "Base",
    "BotState",
    "Building",
    "CaptainAway",
    "CheckIn",
    "Community",
    "CommunityAdmin",
    "CommunitySchedule",
    "FaqFeedback",
    "FaqLocalEntry",
    "FaqQuestion",
    "FaqUnanswered",
    "Grid",
    "HolidayOverride",
    "InviteCode",
    "Meeting",
    "MeetingOccurrence",
    "MeetingRsvp",
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
