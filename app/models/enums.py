"""Enumerations of the domain, stored as strings and shared by models and schemas."""

from __future__ import annotations

from enum import StrEnum


class UnitLevel(StrEnum):
    PROVINCE = "province"
    DISTRICT = "district"
    COMMUNE = "commune"
    VILLAGE = "village"

    @property
    def rank(self) -> int:
        return _LEVEL_RANK[self]


_LEVEL_RANK = {
    UnitLevel.PROVINCE: 1,
    UnitLevel.DISTRICT: 2,
    UnitLevel.COMMUNE: 3,
    UnitLevel.VILLAGE: 4,
}


class UnitType(StrEnum):
    """Official unit types (loại đơn vị hành chính) and the kinds of village."""

    TINH = "tinh"
    THANH_PHO_TW = "thanh_pho_tw"
    HUYEN = "huyen"
    QUAN = "quan"
    THI_XA = "thi_xa"
    THANH_PHO = "thanh_pho"
    XA = "xa"
    PHUONG = "phuong"
    THI_TRAN = "thi_tran"
    DAC_KHU = "dac_khu"
    THON = "thon"
    BAN = "ban"
    AP = "ap"
    TO_DAN_PHO = "to_dan_pho"
    LANG = "lang"
    KHOM = "khom"
    BUON = "buon"
    PHUM = "phum"
    SOC = "soc"

    @property
    def level(self) -> UnitLevel:
        return TYPE_LEVEL[self]


VILLAGE_TYPES = (
    UnitType.THON,
    UnitType.BAN,
    UnitType.AP,
    UnitType.TO_DAN_PHO,
    UnitType.LANG,
    UnitType.KHOM,
    UnitType.BUON,
    UnitType.PHUM,
    UnitType.SOC,
)

TYPE_LEVEL: dict[UnitType, UnitLevel] = {
    UnitType.TINH: UnitLevel.PROVINCE,
    UnitType.THANH_PHO_TW: UnitLevel.PROVINCE,
    UnitType.HUYEN: UnitLevel.DISTRICT,
    UnitType.QUAN: UnitLevel.DISTRICT,
    UnitType.THI_XA: UnitLevel.DISTRICT,
    UnitType.THANH_PHO: UnitLevel.DISTRICT,
    UnitType.XA: UnitLevel.COMMUNE,
    UnitType.PHUONG: UnitLevel.COMMUNE,
    UnitType.THI_TRAN: UnitLevel.COMMUNE,
    UnitType.DAC_KHU: UnitLevel.COMMUNE,
    **dict.fromkeys(VILLAGE_TYPES, UnitLevel.VILLAGE),
}


class UnitEventKind(StrEnum):
    ESTABLISH = "establish"
    DISSOLVE = "dissolve"
    MERGE = "merge"
    SPLIT = "split"
    RENAME = "rename"
    RECLASSIFY = "reclassify"
    TRANSFER = "transfer"


class ClassificationKind(StrEnum):
    """Dated classifications of a unit that pick thresholds (DOMAIN.md §7)."""

    NTM_REGION = "ntm_region"  # 7 regions of 318/QĐ-TTg, for provinces (2021-2025)
    ESPECIALLY_DIFFICULT = "especially_difficult"  # commune or village; value "true"/"false"
    SAFE_ZONE = "safe_zone"  # xã an toàn khu of a poor district; value "true"/"false"
    COMMUNE_GROUP = "commune_group"  # 1, 2 or 3 under 51/2025/QĐ-TTg (2026-2030)
    URBANITY = "urbanity"  # "rural" or "urban"


class Region(StrEnum):
    """NTM regions of Decision 318/QĐ-TTg (seven columns)."""

    TDMNPB = "TDMNPB"
    DBSH = "DBSH"
    BTB = "BTB"
    DHNTB = "DHNTB"
    TN = "TN"
    DNB = "DNB"
    DBSCL = "DBSCL"


class Title(StrEnum):
    NTM_COMMUNE = "ntm_commune"
    ADVANCED_NTM_COMMUNE = "advanced_ntm_commune"
    MODEL_NTM_COMMUNE = "model_ntm_commune"
    MODERN_NTM_COMMUNE = "modern_ntm_commune"
    NTM_DISTRICT = "ntm_district"
    ADVANCED_NTM_DISTRICT = "advanced_ntm_district"
    COMPLETED_NTM_TOWN = "completed_ntm_town"
    COMPLETED_NTM_PROVINCE = "completed_ntm_province"
    NTM_VILLAGE = "ntm_village"
    MODEL_VILLAGE = "model_village"
    SMART_VILLAGE = "smart_village"


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    APPLY = "apply"
    PUBLISH = "publish"
    RETIRE = "retire"
    IMPORT = "import"
    LOGIN = "login"
    REVOKE = "revoke"


# --- criteria sets (app.models.criteria) ---------------------------------------------------------


class CriteriaSetStatus(StrEnum):
    """A set is a draft until published, immutable once published, and may then be retired."""

    DRAFT = "draft"
    PUBLISHED = "published"
    RETIRED = "retired"


class CriteriaSetAction(StrEnum):
    """What moves a criteria set along its lifecycle (``POST /criteria-sets/{id}/<action>``)."""

    PUBLISH = "publish"
    RETIRE = "retire"


class IndicatorKind(StrEnum):
    NUMBER = "number"
    BOOLEAN = "boolean"
    JUDGEMENT = "judgement"  # assessed by a reviewer: met, basically met or not met


class Comparator(StrEnum):
    """How a value is compared with its threshold."""

    GE = "ge"
    LE = "le"
    EQ = "eq"


class CriterionRule(StrEnum):
    """How a criterion combines its indicators."""

    ALL = "all"
    ANY = "any"
    AT_LEAST = "at_least"  # with k
    JUDGEMENT = "judgement"  # assessed as a whole by the appraiser


class PrerequisiteKind(StrEnum):
    TITLE = "title"
    INCOME_RATIO = "income_ratio"
    SMART_VILLAGE = "smart_village"
    OUTSTANDING_FIELD = "outstanding_field"
    SUBUNITS_WITH_TITLE = "subunits_with_title"


class ResolutionStatus(StrEnum):
    """What threshold resolution found for an indicator or condition of a unit in a year."""

    RESOLVED = "resolved"
    MISSING = "missing"  # no value applies (the reason says why)
    JUDGEMENT = "judgement"  # assessed by a reviewer: no threshold


class Confidence(StrEnum):
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# --- assessments (app.models.assessments) --------------------------------------------------------


class AssessmentKind(StrEnum):
    SELF_ASSESSMENT = "self_assessment"  # tự đánh giá (commune People's Committee)
    REVIEW = "review"  # thẩm tra (district, until 30/06/2025)
    APPRAISAL = "appraisal"  # thẩm định (provincial appraisal council)
    ANNUAL_REVIEW = "annual_review"  # rà soát hằng năm


class AssessmentStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    LOCKED = "locked"


class Judgement(StrEnum):
    MET = "met"  # đạt
    BASICALLY_MET = "basically_met"  # cơ bản đạt
    NOT_MET = "not_met"  # chưa đạt


class IndicatorStatus(StrEnum):
    MET = "met"
    BASICALLY_MET = "basically_met"
    NOT_MET = "not_met"
    MISSING = "missing"
    UNDETERMINED = "undetermined"


class CriterionStatus(StrEnum):
    MET = "met"
    BASICALLY_MET = "basically_met"
    NOT_MET = "not_met"
    UNDETERMINED = "undetermined"


class ConditionStatus(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    MISSING = "missing"
    UNVERIFIED = "unverified"


class PrerequisiteStatus(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNVERIFIED = "unverified"


class ValueChange(StrEnum):
    UPDATE = "update"
    DELETE = "delete"


class ImportJobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class Direction(StrEnum):
    """How a criterion's status moved between two assessments."""

    IMPROVED = "improved"
    WORSENED = "worsened"
    CHANGED = "changed"  # to or from undetermined, or a criterion only one side has
    UNCHANGED = "unchanged"


# --- plans (app.models.plans) ---------------------------------------------------------------------


class PlanStatus(StrEnum):
    """draft → in_force → closed; in_force → superseded only by an adjustment (a new version)."""

    DRAFT = "draft"
    IN_FORCE = "in_force"
    SUPERSEDED = "superseded"
    CLOSED = "closed"


class PlanKind(StrEnum):
    PERIOD = "period"  # kế hoạch giai đoạn (e.g. 2021-2025)
    YEARLY = "yearly"  # kế hoạch năm, under a period plan
    OTHER = "other"


class TargetMetric(StrEnum):
    """What a target measures over its scope (DOMAIN.md §6)."""

    UNITS_WITH_TITLE = "units_with_title"  # count of units holding ``title``
    SHARE_WITH_TITLE = "share_with_title"  # percent of the title's units holding it
    AVERAGE_CRITERIA_MET = "average_criteria_met"  # criteria met per commune
    COMMUNES_BELOW_CRITERIA = "communes_below_criteria"  # communes meeting fewer than N
    DIFFICULT_VILLAGES_NTM = "difficult_villages_ntm"  # villages of especially difficult communes
    BUDGET_PLANNED_VND = "budget_planned_vnd"
    BUDGET_DISBURSED_VND = "budget_disbursed_vnd"


class TargetStatus(StrEnum):
    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    MISSED = "missed"
    UNKNOWN = "unknown"  # nothing to measure (no denominator, no figure reported)


class RoadmapStatus(StrEnum):
    RECOGNISED = "recognised"
    DOSSIER_IN_PROGRESS = "dossier_in_progress"
    CRITERIA_MET = "criteria_met"  # the latest assessment meets every criterion; no dossier yet
    ASSESSMENT_GAP = "assessment_gap"
    AT_RISK = "at_risk"
    MISSED = "missed"
    NOT_ASSESSED = "not_assessed"
    LEFT_SCOPE = "left_scope"  # merged away, became a ward, dissolved


class TaskStatus(StrEnum):
    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class PlanDocumentKind(StrEnum):
    PLAN = "plan"  # the signed KH
    ADJUSTMENT = "adjustment"
    ANNEX = "annex"
    OTHER = "other"


# --- the register of titles (app.models.recognitions) --------------------------------------------


class RecognitionSource(StrEnum):
    """How a recognition entered the register."""

    DOSSIER = "dossier"  # the decision that closed a recognition dossier
    HISTORICAL = "historical"  # a decision made before the platform existed, entered by hand
    IMPORT = "import"  # a province's history loaded from CSV/XLSX
    CARRY_OVER = "carry_over"  # confirmed after a merger (267/BNN-VPĐP of 09/01/2024)


class ExportFormat(StrEnum):
    """What a list or report answers in (``format=`` or the ``Accept`` header)."""

    JSON = "json"
    CSV = "csv"
    XLSX = "xlsx"


class ColumnType(StrEnum):
    """The type of an exported column: how CSV spells it and which XLSX cell type holds it."""

    TEXT = "text"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"
    UUID = "uuid"


# --- recognition dossiers (app.models.dossiers) --------------------------------------------------


class DossierStatus(StrEnum):
    """Where a dossier stands. The steps of every procedure version (app/dossiers/data) are
    states, plus the three ends. Which steps a dossier passes depends on its procedure."""

    DRAFT = "draft"  # the applying unit prepares: self-assessment, survey, public posting
    DISTRICT_REVIEW = "district_review"  # thẩm tra by the district (until 30/06/2025)
    PROVINCIAL_REVIEW = "provincial_review"  # the province reviews a district's dossier
    PROVINCIAL_APPRAISAL = "provincial_appraisal"  # thẩm định: provincial appraisal council
    PROVINCIAL_DECISION = "provincial_decision"  # the provincial chairman decides
    CENTRAL_APPRAISAL = "central_appraisal"  # central appraisal council (district titles)
    PRIME_MINISTER_DECISION = "prime_minister_decision"
    RECOGNISED = "recognised"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_DOSSIER_STATES

    @property
    def under_review(self) -> bool:
        """Submitted and not yet ended: the assessment's values are locked."""
        return self is not DossierStatus.DRAFT and not self.is_final


_FINAL_DOSSIER_STATES = frozenset(
    {DossierStatus.RECOGNISED, DossierStatus.REJECTED, DossierStatus.WITHDRAWN}
)


class DossierAction(StrEnum):
    """What moves a dossier (``POST /dossiers/{id}/transitions``)."""

    SUBMIT = "submit"  # the applying unit sends the dossier up
    FORWARD = "forward"  # a review step passes it on
    APPRAISE = "appraise"  # an appraisal council passes it on, with its vote
    RECOGNISE = "recognise"  # the decision: the title is granted
    RETURN = "return"  # back one step for completion, with reasons
    REJECT = "reject"  # refused, with reasons
    WITHDRAW = "withdraw"  # the applying unit takes it back


class DossierDocumentType(StrEnum):
    """Documents a dossier carries (DOMAIN.md §4; 18/2022/QĐ-TTg)."""

    SUBMISSION = "submission"  # tờ trình
    RESULTS_REPORT = "results_report"  # báo cáo kết quả
    OPINIONS_REPORT = "opinions_report"  # báo cáo tổng hợp ý kiến
    SATISFACTION_SURVEY = "satisfaction_survey"  # kết quả lấy ý kiến sự hài lòng
    MEETING_MINUTES = "meeting_minutes"  # biên bản họp, with vote counts
    EVIDENCE = "evidence"  # tài liệu minh chứng
    DECISION = "decision"  # the decision text (quyết định)


class PreconditionKind(StrEnum):
    """What a transition checks (listed, when failing, in the problem's ``failed``)."""

    ASSESSMENT_MEETS_SET = "assessment_meets_set"
    CONDITIONS = "conditions"
    TITLE_PREREQUISITES = "title_prerequisites"
    DOCUMENTS = "documents"
