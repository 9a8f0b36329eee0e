"""Enumerations of the domain, stored as strings and shared by models and schemas."""

from __future__ import annotations

from enum import StrEnum


class UnitLevel(StrEnum):
    """Level of an administrative unit (cấp hành chính): ``province`` (tỉnh, thành phố trực thuộc
    trung ương), ``district`` (huyện, quận, thị xã, thành phố thuộc tỉnh; abolished from 01/07/2025
    by the 2025 reform), ``commune`` (xã, phường, thị trấn, đặc khu), ``village`` (thôn,
    bản, ấp, tổ dân phố: not in the national code list)."""

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
    """Kind of a dated change of the map: ``establish`` (a new unit), ``dissolve`` (a unit ends),
    ``merge`` (several units into one, sáp nhập), ``split`` (one unit into several, chia tách),
    ``rename`` (đổi tên), ``reclassify`` (a new type, e.g. xã → phường), ``transfer`` (units move
    to another parent)."""

    ESTABLISH = "establish"
    DISSOLVE = "dissolve"
    MERGE = "merge"
    SPLIT = "split"
    RENAME = "rename"
    RECLASSIFY = "reclassify"
    TRANSFER = "transfer"


class DateBasis(StrEnum):
    """How the ``effective_date`` of a bundled unit event is known (docs/units-dataset.md):
    ``effective`` (the resolution's effective date: the historical-data commit up to
    2021-07-01, or a resolution the reference names), ``list`` (FLAGGED: only the date of the
    first statistics-office list showing the change; it may have taken effect earlier, between
    two lists), ``unconfirmed`` (FLAGGED: no text available gives the date, e.g.
    388/NQ-UBTVQH16, dated 2026-09-20 from the package maintainer's statement). Set only on
    events of the bundled dataset: an event recorded through the API has none (its date is the
    one its author stated, with its legal basis)."""

    EFFECTIVE = "effective"
    LIST = "list"
    UNCONFIRMED = "unconfirmed"


class BasisSource(StrEnum):
    """Where the date and legal basis of a bundled unit event come from (docs/units-dataset.md):
    ``commit_message`` (the historical-data commit names a resolution whose text names the
    unit's province), ``stated`` (the reference names the resolution and effective date of a
    change first shown by a list), ``reference`` (the reference gives the change: the 2025
    reform, the 2026 changes), ``unmatched`` (the commit names resolutions, none of which names
    the province), ``list_date`` (no source names the change: the date is a list date),
    ``unknown`` (no source available names the resolution). Set only on events of the bundled
    dataset."""

    COMMIT_MESSAGE = "commit_message"
    STATED = "stated"
    REFERENCE = "reference"
    UNMATCHED = "unmatched"
    LIST_DATE = "list_date"
    UNKNOWN = "unknown"


class LinkConfidence(StrEnum):
    """How a lineage link is known (docs/units-dataset.md)."""

    STATED = "stated"  # a source names it (a resolution, the 2025 conversion table, a user)
    INFERRED = "inferred"  # a documented rule derived it from two dated lists (``rule``)


class ClassificationKind(StrEnum):
    """Dated classifications of a unit that pick thresholds: ``ntm_region`` (the 7 regions of
    318/QĐ-TTg, provinces), ``especially_difficult`` (xã/thôn đặc biệt khó khăn: region III
    communes of 861/QĐ-TTg, villages of 612/QĐ-UBDT), ``safe_zone`` (xã an toàn khu),
    ``commune_group`` (nhóm xã 1–3 of 51/2025/QĐ-TTg), ``urbanity`` (rural or urban)."""

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
    """A title a unit is recognised with (danh hiệu, công nhận đạt chuẩn): NTM commune (xã đạt
    chuẩn nông thôn mới), advanced (nâng cao), model (kiểu mẫu) and modern (hiện đại, pilot of
    51/2025/QĐ-TTg) NTM commune; NTM and advanced NTM district; town or provincial city and
    province completing the NTM task (hoàn thành nhiệm vụ xây dựng NTM); NTM, model and smart
    (thông minh) village (provincial sets)."""

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
    # A unit ended by a change of the map (dissolved, merged away, split up): the change feed's
    # tombstone of that unit (app/outbox).
    DISSOLVE = "dissolve"
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
    """How an indicator is assessed: ``number`` (a measured value compared with a threshold:
    percent, count, money, area), ``boolean`` (a yes/no fact), ``judgement`` (an appraiser's
    assessment: met, basically met or not met; no threshold)."""

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
    """How sure the platform is of a bundled legal fact (a threshold, a name, a grouping): ``high``
    (read in the legal text), ``medium`` (from official reports or practice), ``low`` (to be
    checked). Facts entered by a province carry the confidence it gives them."""

    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"


# --- assessments (app.models.assessments) --------------------------------------------------------


class AssessmentKind(StrEnum):
    """Who assesses, at which step of the recognition procedure (18/2022/QĐ-TTg):
    ``self_assessment`` (tự đánh giá, by the commune People's Committee), ``review`` (thẩm tra, by
    the district until 30/06/2025), ``appraisal`` (thẩm định, by the provincial appraisal council),
    ``annual_review`` (rà soát hằng năm, the yearly check of a recognised unit)."""

    SELF_ASSESSMENT = "self_assessment"  # tự đánh giá (commune People's Committee)
    REVIEW = "review"  # thẩm tra (district, until 30/06/2025)
    APPRAISAL = "appraisal"  # thẩm định (provincial appraisal council)
    ANNUAL_REVIEW = "annual_review"  # rà soát hằng năm


class AssessmentStatus(StrEnum):
    """Where an assessment stands: ``draft`` (values may change), ``submitted`` (sent for the
    next step; only a reviewer changes it), ``locked`` (final; nothing changes)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    LOCKED = "locked"


class Judgement(StrEnum):
    """An appraiser's judgement of a criterion or indicator, the three tiers of the reports:
    ``met`` (đạt), ``basically_met`` (cơ bản đạt), ``not_met`` (chưa đạt)."""

    MET = "met"  # đạt
    BASICALLY_MET = "basically_met"  # cơ bản đạt
    NOT_MET = "not_met"  # chưa đạt


class IndicatorStatus(StrEnum):
    """An indicator's result: ``met`` (đạt), ``basically_met`` (cơ bản đạt, judgements only),
    ``not_met`` (chưa đạt), ``missing`` (no value entered yet), ``undetermined`` (a value but no
    threshold applies to the unit, e.g. one the province has not set)."""

    MET = "met"
    BASICALLY_MET = "basically_met"
    NOT_MET = "not_met"
    MISSING = "missing"
    UNDETERMINED = "undetermined"


class CriterionStatus(StrEnum):
    """A criterion's result (tiêu chí): ``met`` (đạt), ``basically_met`` (cơ bản đạt),
    ``not_met`` (chưa đạt), ``undetermined`` (some indicator is missing or has no threshold, so
    the criterion cannot be decided yet)."""

    MET = "met"
    BASICALLY_MET = "basically_met"
    NOT_MET = "not_met"
    UNDETERMINED = "undetermined"


class ConditionStatus(StrEnum):
    """A recognition condition's result (18/2022/QĐ-TTg art. 4, e.g. residents' satisfaction):
    ``met``, ``not_met``, ``missing`` (no value entered), ``unverified`` (no threshold applies:
    the rate is for the province to set)."""

    MET = "met"
    NOT_MET = "not_met"
    MISSING = "missing"
    UNVERIFIED = "unverified"


class PrerequisiteStatus(StrEnum):
    """A title prerequisite's result (e.g. the model title requires the advanced one): ``met``,
    ``not_met``, ``unverified`` (the platform cannot check it from its data)."""

    MET = "met"
    NOT_MET = "not_met"
    UNVERIFIED = "unverified"


class ValueChange(StrEnum):
    UPDATE = "update"
    DELETE = "delete"


class ImportJobStatus(StrEnum):
    """State of a background import: ``queued``, ``running``, ``succeeded``, ``failed`` (the
    error says why; nothing was written), ``cancelled``."""

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
    """A plan's kind: a period plan (kế hoạch giai đoạn), a yearly plan (kế hoạch năm) under
    one, or other."""

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
    """A target measured: achieved, on track, at risk, missed, or unknown (nothing to measure)."""

    ACHIEVED = "achieved"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    MISSED = "missed"
    UNKNOWN = "unknown"  # nothing to measure (no denominator, no figure reported)


class RoadmapStatus(StrEnum):
    """Where a roadmap item stands: recognised, a dossier in progress, criteria met without a
    dossier, an assessment gap, at risk, missed, not assessed, or its unit left the scope."""

    RECOGNISED = "recognised"
    DOSSIER_IN_PROGRESS = "dossier_in_progress"
    CRITERIA_MET = "criteria_met"  # the latest assessment meets every criterion; no dossier yet
    ASSESSMENT_GAP = "assessment_gap"
    AT_RISK = "at_risk"
    MISSED = "missed"
    NOT_ASSESSED = "not_assessed"
    LEFT_SCOPE = "left_scope"  # merged away, became a ward, dissolved


class TaskStatus(StrEnum):
    """A plan task's status."""

    NOT_STARTED = "not_started"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"


class PlanDocumentKind(StrEnum):
    """What a plan's document is: the signed plan, an adjustment, an annex, or other."""

    PLAN = "plan"  # the signed KH
    ADJUSTMENT = "adjustment"
    ANNEX = "annex"
    OTHER = "other"


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


# --- flat exports (app.exports) -----------------------------------------------------------------


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


# --- the register of titles (app.models.recognitions) --------------------------------------------


class RecognitionSource(StrEnum):
    """How a recognition entered the register."""

    DOSSIER = "dossier"  # the decision that closed a recognition dossier
    HISTORICAL = "historical"  # a decision made before the platform existed, entered by hand
    IMPORT = "import"  # a province's history loaded from CSV/XLSX
    CARRY_OVER = "carry_over"  # confirmed after a merger (267/BNN-VPĐP of 09/01/2024)


class CarryOverOutcome(StrEnum):
    """What a merger proposes for the new unit (267/BNN-VPĐP of 09/01/2024)."""

    CARRY_OVER = "carry_over"  # every predecessor held a title: the lowest common one
    PROCEDURE_REQUIRED = "procedure_required"  # mixed: the new unit goes through the procedure


class RevocationCheck(StrEnum):
    """Where a titled unit stands against its set's revocation bands (18/2022/QĐ-TTg)."""

    FALLS_UNDER_BAND = "falls_under_band"  # the latest assessment falls under a band
    WITHIN_BANDS = "within_bands"
    NO_BANDS = "no_bands"  # the set defines none: an administrator must enter them
    NO_ASSESSMENT = "no_assessment"  # no assessment against a set of the title


# --- the change feed and webhooks (app.models.integration) ---------------------------------------


class WebhookDeliveryStatus(StrEnum):
    """A delivery waits (``pending``, also between retries), reached its receiver with a 2xx
    (``delivered``) or was given up after the retry period (``failed``)."""

    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"
