"""The words of problem responses, in Vietnamese (the default) and English, keyed by ``code``.

A raise site keeps its English ``detail`` (logs and English callers read it, unchanged) and may
pass ``params``; the error handler renders ``title`` and ``detail`` in the caller's language
(``Accept-Language``, the same rule as labels). Vietnamese: the code's variant named by
``params["variant"]``, else its specific template when the raise site passed every value it
names, else its generic sentence. English: the raise site's own sentence (the English templates
here say the same and document the code). ``code`` never changes with the language.

Every code the application can answer with has an entry: ``tests/core/test_messages.py`` collects
the codes from the source and fails on one missing here. A code without an entry at run time is
answered in English and reported with :class:`MissingMessageWarning` (an error under pytest).
"""

from __future__ import annotations

import string
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Literal

Language = Literal["vi", "en"]


class MissingMessageWarning(UserWarning):
    """A problem code without a catalogue entry, or params that do not fill its template."""


@dataclass(frozen=True)
class Text:
    vi: str
    en: str

    def get(self, language: Language) -> str:
        return self.vi if language == "vi" else self.en


@dataclass(frozen=True)
class Message:
    """``generic``: a sentence that needs nothing; ``specific``: ``{named}`` parameters;
    ``variants``: whole sentences chosen by the ``variant`` parameter (one code, several
    causes the caller should tell apart, e.g. an expired or a revoked token)."""

    generic: Text
    specific: Text | None = None
    variants: Mapping[str, Text] = field(default_factory=dict)


def _m(
    vi: str,
    en: str,
    vi_with: str | None = None,
    en_with: str | None = None,
    *,
    variants: Mapping[str, Text] | None = None,
) -> Message:
    specific = Text(vi_with, en_with) if vi_with is not None and en_with is not None else None
    return Message(Text(vi, en), specific, dict(variants or {}))


def placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


TITLES: dict[int, Text] = {
    400: Text("Yêu cầu không đúng", "Bad Request"),
    401: Text("Chưa xác thực", "Unauthorized"),
    403: Text("Không có quyền", "Forbidden"),
    404: Text("Không tìm thấy", "Not Found"),
    405: Text("Phương thức không được phép", "Method Not Allowed"),
    406: Text("Không đáp ứng được định dạng yêu cầu", "Not Acceptable"),
    409: Text("Xung đột", "Conflict"),
    410: Text("Không còn", "Gone"),
    412: Text("Điều kiện tiên quyết không thỏa mãn", "Precondition Failed"),
    413: Text("Nội dung quá lớn", "Content Too Large"),
    415: Text("Kiểu nội dung không được hỗ trợ", "Unsupported Media Type"),
    422: Text("Dữ liệu không hợp lệ", "Unprocessable Content"),
    429: Text("Quá nhiều yêu cầu", "Too Many Requests"),
    500: Text("Lỗi máy chủ", "Internal Server Error"),
    503: Text("Dịch vụ tạm thời không sẵn sàng", "Service Unavailable"),
    507: Text("Không đủ dung lượng lưu trữ", "Insufficient Storage"),
}


def _not_found(vi_what: str, en_what: str) -> Message:
    return _m(
        f"Không tìm thấy {vi_what} (hoặc bạn không có quyền xem).",
        f"No such {en_what} (or it is outside what you may see).",
        f"Không có {vi_what} {{id}} (hoặc bạn không có quyền xem).",
        f"There is no {en_what} {{id}}.",
    )


MESSAGES: dict[str, Message] = {
    # --- the handlers and the guards of every request ---------------------------------------
    "bad_request": _m("Yêu cầu không đúng.", "The request is not correct."),
    "validation_error": _m(
        "Yêu cầu không hợp lệ; xem `errors`.",
        "The request is not valid; see `errors`.",
        "Yêu cầu không hợp lệ: {fields}.",
        "The request is not valid: {fields}.",
    ),
    "missing": _m("Thiếu một giá trị bắt buộc.", "A required value is missing."),
    "body_unparseable": _m(
        "Không đọc được nội dung yêu cầu.", "The body of the request cannot be parsed."
    ),
    "string_control": _m(
        "Chuỗi chứa ký tự điều khiển không được phép.",
        "A text contains control characters that are not allowed.",
    ),
    "string_nul": _m("Chuỗi chứa ký tự NUL.", "A text contains a NUL character."),
    "not_found": _m(
        "Không có tài nguyên tại địa chỉ này.",
        "There is no resource at this address.",
        "Không có tài nguyên tại {path}.",
        "No resource at {path}.",
    ),
    "method_not_allowed": _m(
        "Phương thức này không được phép với tài nguyên này (xem tiêu đề `Allow`).",
        "This method is not allowed on this resource (see the `Allow` header).",
    ),
    "not_acceptable": _m(
        "Không thể trả về định dạng được yêu cầu trong `Accept`.",
        "The format asked for in `Accept` cannot be produced.",
    ),
    "payload_too_large": _m(
        "Nội dung yêu cầu vượt quá giới hạn cho phép của yêu cầu này.",
        "The request body is larger than the limit for this request.",
    ),
    "unsupported_media_type": _m(
        "Kiểu nội dung (`Content-Type`) không được hỗ trợ.",
        "The `Content-Type` is not supported.",
    ),
    "unknown_query_parameter": _m(
        "Tham số truy vấn không được hỗ trợ; xem `errors`.",
        "Unknown query parameter; see `errors`.",
        "Tham số truy vấn không được hỗ trợ: {names}. Thao tác này nhận: {known}.",
        "Unknown query parameter(s): {names}. This operation accepts: {known}.",
    ),
    "unknown_parameter": _m("Tham số không được hỗ trợ.", "Unknown parameter."),
    "unit_not_on_map": _m(
        "Đơn vị không có trên bản đồ hành chính vào ngày được hỏi (`as_of`).",
        "The unit was not on the map on the date asked about (`as_of`).",
    ),
    "year_outside_criteria_sets": _m(
        "Không có bộ tiêu chí cấp xã đã ban hành nào áp dụng cho năm này.",
        "No published commune criteria set covers this year.",
    ),
    "level_not_on_map": _m(
        "Cấp đơn vị dùng để nhóm (`group_by`) không tồn tại dưới đơn vị này trong các năm "
        "được hỏi.",
        "The level to group by (`group_by`) did not exist under this unit in the years asked.",
    ),
    "level_not_groupable": _m(
        "Chỉ nhóm được theo cấp tỉnh hoặc cấp huyện (`group_by`).",
        "Group by province or district (`group_by`).",
    ),
    "invalid_range": _m(
        "Năm kết thúc (`to`) đứng trước năm bắt đầu (`from`).",
        "`to` is before `from`.",
    ),
    "export_format_unavailable": _m(
        "Bảng này chỉ xuất được thành tệp: dùng `format=csv` hoặc `format=xlsx`.",
        "This table exists only as a file: ask for format=csv or format=xlsx.",
    ),
    "invalid_cursor": _m(
        "Con trỏ phân trang (`cursor`) không do dịch vụ này cấp hoặc đã hết hạn.",
        "The cursor is not one this service issued (or it has expired).",
    ),
    "precondition_failed": _m(
        "Tài nguyên đã thay đổi kể từ khi bạn đọc (If-Match không khớp ETag). "
        "Hãy đọc lại rồi thử lại.",
        "The resource changed since you read it (If-Match does not match its ETag). "
        "Fetch it again and retry.",
    ),
    "conflict": _m("Yêu cầu xung đột với trạng thái hiện tại.", "The request conflicts."),
    "internal_error": _m(
        "Đã xảy ra lỗi không mong muốn; lỗi đã được ghi lại cùng mã yêu cầu.",
        "An unexpected error occurred. It has been logged with the request id.",
    ),
    "service_unavailable": _m(
        "Dịch vụ tạm thời không sẵn sàng; hãy thử lại sau.",
        "The service is unavailable for now; try again later.",
    ),
    "database_unavailable": _m(
        "Hiện không kết nối được cơ sở dữ liệu; hãy thử lại sau ít phút.",
        "The database cannot be reached right now; try again shortly.",
    ),
    "storage_full": _m(
        "Kho lưu trữ tệp đã đầy; không có gì được ghi. Hãy báo quản trị hệ thống.",
        "The file storage is full; nothing was written. Tell the system administrator.",
    ),
    "storage_not_writable": _m(
        "Không ghi được vào kho lưu trữ tệp; không có gì được ghi. Hãy báo quản trị hệ thống.",
        "The file storage cannot be written to; nothing was written. Tell the system "
        "administrator.",
    ),
    "schema_outdated": _m(
        "Lược đồ cơ sở dữ liệu chưa được nâng cấp: chạy `ntm db upgrade`.",
        "The database schema is outdated: run `ntm db upgrade`.",
    ),
    "invalid_idempotency_key": _m(
        "Tiêu đề `Idempotency-Key` không hợp lệ.", "The `Idempotency-Key` header is not valid."
    ),
    "idempotency_key_reused": _m(
        "`Idempotency-Key` này đã được dùng cho một yêu cầu có nội dung khác.",
        "This `Idempotency-Key` was used for a request with another body.",
    ),
    "idempotency_key_in_flight": _m(
        "Một yêu cầu với `Idempotency-Key` này đang được xử lý; hãy thử lại sau.",
        "A request with this `Idempotency-Key` is still in progress; retry shortly.",
    ),
    "import_file_missing": _m(
        "Hãy gửi tệp trong trường biểu mẫu `file`.", "Send the file as the form field `file`."
    ),
    # --- identity -------------------------------------------------------------------------------
    "not_authenticated": _m(
        "Cần mã truy cập: `Authorization: Bearer <token>`.",
        "This endpoint needs an access token: `Authorization: Bearer <token>`.",
    ),
    "invalid_token": _m(
        "Mã truy cập không hợp lệ, đã hết hạn hoặc đã bị thu hồi.",
        "The access token is not valid, has expired or was revoked.",
        variants={
            "expired": Text("Mã truy cập đã hết hạn.", "The access token has expired."),
            "revoked": Text("Mã truy cập đã bị thu hồi.", "The access token has been revoked."),
            "invalid": Text("Mã truy cập không hợp lệ.", "The access token is not valid."),
            "scheme": Text(
                "Hãy gửi mã dưới dạng `Authorization: Bearer <token>`.",
                "Send the token as `Authorization: Bearer <token>`.",
            ),
        },
    ),
    "forbidden": _m(
        "Vai trò của bạn không cho phép thao tác này ở đây.",
        "Your roles do not allow this here.",
        "Vai trò của bạn không cho phép `{action}` ở đây.",
        "Your roles do not allow `{action}` here.",
    ),
    "invalid_request": _m(
        "Yêu cầu cấp mã truy cập thiếu hoặc sai tham số.",
        "The token request lacks a parameter or has a wrong one.",
    ),
    "invalid_grant": _m(
        "Tên đăng nhập hoặc mật khẩu không đúng.", "The username or password is not correct."
    ),
    "invalid_client": _m(
        "Không xác thực được ứng dụng khách.", "The client could not be authenticated."
    ),
    "unsupported_grant_type": _m(
        "Kiểu cấp quyền không được hỗ trợ: dùng password (người dùng) hoặc client_credentials "
        "(tích hợp).",
        "Supported grant types: password (people) and client_credentials (integrations).",
    ),
    "too_many_attempts": _m(
        "Đăng nhập sai quá nhiều lần; hãy thử lại sau.",
        "Too many failed sign-in attempts; try again later.",
    ),
    "weak_password": _m(
        "Mật khẩu quá yếu; xem `errors`.", "The password is too weak; see `errors`."
    ),
    "wrong_password": _m("Mật khẩu hiện tại không đúng.", "The current password is not correct."),
    "user_id_taken": _m(
        "Mã định danh này đã thuộc về một người dùng hoặc ứng dụng khách khác.",
        "Another user or client has this id.",
        "Mã định danh {id} đã thuộc về một người dùng hoặc ứng dụng khách khác.",
        "Another user or client has the id {id}.",
    ),
    "client_id_taken": _m(
        "Mã định danh này đã thuộc về một ứng dụng khách hoặc người dùng khác.",
        "Another client or user has this id.",
        "Mã định danh {id} đã thuộc về một ứng dụng khách hoặc người dùng khác.",
        "Another client or user has the id {id}.",
    ),
    "username_taken": _m(
        "Tên đăng nhập đã được sử dụng.",
        "The username is taken.",
        "Tên đăng nhập {username} đã được sử dụng.",
        "The username {username} is taken.",
    ),
    "role_already_granted": _m(
        "Vai trò này đã được giao trên phạm vi này trong một phần thời gian đó.",
        "The role is already held over this scope for part of that time.",
    ),
    "last_administrator": _m(
        "Thao tác này sẽ không còn quản trị viên hệ thống nào; hãy bổ nhiệm người khác trước.",
        "This would leave no active system administrator; appoint another one first.",
    ),
    "invalid_interval": _m(
        "Khoảng thời gian không hợp lệ: ngày kết thúc phải sau ngày bắt đầu.",
        "The interval is not valid: it must end after it starts.",
    ),
    "resources_not_allowed": _m(
        "Vai trò này không nhận danh sách tài nguyên.", "This role takes no resources."
    ),
    "resources_required": _m(
        "Vai trò này cần danh sách tài nguyên.", "This role needs a list of resources."
    ),
    "role_not_allowed": _m(
        "Vai trò này không thể giao cho đối tượng này.", "This role cannot be granted here."
    ),
    "step_not_allowed": _m(
        "Bước này không áp dụng cho vai trò này.", "This step does not apply to the role."
    ),
    "unknown_resource": _m("Tài nguyên không xác định.", "Unknown resource."),
    "user_not_found": _not_found("người dùng", "user"),
    "client_not_found": _not_found("ứng dụng khách", "client"),
    "access_token_not_found": _not_found("mã truy cập", "access token"),
    "role_assignment_not_found": _not_found("phân quyền", "role assignment"),
    "role_assignment_transition_not_allowed": _m(
        "Phân quyền không cho phép thao tác này ở trạng thái hiện tại.",
        "The role assignment does not allow this in its current state.",
    ),
    "audit_record_not_found": _not_found("bản ghi nhật ký", "audit record"),
    "reference_dataset_not_found": _not_found("bộ dữ liệu tham chiếu", "reference dataset"),
    # --- units ----------------------------------------------------------------------------------
    "unit_not_found": _m(
        "Không tìm thấy đơn vị hành chính (hoặc bạn không có quyền xem).",
        "No such unit (or it is outside what you may see).",
        "Không có đơn vị hành chính {id}.",
        "No unit {id}.",
        variants={
            "existed_during_year": Text(
                "Đơn vị {id} không tồn tại vào ngày {when}; trong năm {year} đơn vị tồn tại đến "
                "ngày {day}: gửi `as_of={day}` để đọc vào một ngày đơn vị còn tồn tại.",
                "No unit {id} existed on {when}. It existed during {year} until {day}: send "
                "`as_of={day}` to read it on a day it existed.",
            ),
        },
    ),
    "unit_event_not_found": _not_found("sự kiện thay đổi địa giới", "unit event"),
    "unit_classification_not_found": _not_found("phân loại đơn vị", "unit classification"),
    "classification_invalid": _m("Phân loại không hợp lệ.", "The classification is not valid."),
    "classification_overlap": _m(
        "Phân loại trùng thời gian với một phân loại đã có.",
        "The classification overlaps an existing one.",
    ),
    "cycle_detected": _m(
        "Đơn vị không thể là cấp trên của chính nó.", "A unit cannot be its own ancestor."
    ),
    "duplicate_unit": _m("Một đơn vị được nêu nhiều lần.", "A unit is named more than once."),
    "effective_date_invalid": _m("Ngày hiệu lực không hợp lệ.", "The effective date is not valid."),
    "effective_date_required": _m(
        "Thay đổi tên, loại hoặc cấp trên cần ngày hiệu lực (`effective_from`).",
        "A change of name, type or parent needs an effective date.",
    ),
    "event_no_change": _m("Sự kiện không thay đổi gì.", "The event changes nothing."),
    "level_mismatch": _m("Cấp đơn vị không phù hợp.", "The unit levels do not match."),
    "lineage_exists": _m(
        "Quan hệ kế thừa này đã được ghi nhận.", "This lineage is already recorded."
    ),
    "parent_level_invalid": _m(
        "Đơn vị cấp trên không đúng cấp.", "The parent is not at the right level."
    ),
    "parent_not_found": _m("Không có đơn vị cấp trên này.", "No such parent unit."),
    "parent_not_valid": _m(
        "Đơn vị cấp trên không tồn tại trong suốt thời gian đó.",
        "The parent does not exist for all of that time.",
    ),
    "parent_required": _m("Cần có đơn vị cấp trên.", "A parent is required."),
    "split_parts_invalid": _m(
        "Các phần của việc chia tách không hợp lệ.", "The parts of the split are not valid."
    ),
    "type_level_mismatch": _m(
        "Loại đơn vị không phù hợp với cấp.", "The unit type does not fit its level."
    ),
    "unit_code_conflict": _m(
        "Mã đơn vị đã được dùng trong cùng thời gian.", "The unit code is taken at that time."
    ),
    "unit_event_id_conflict": _m(
        "Mã định danh sự kiện đã tồn tại với nội dung khác.",
        "A unit event with this id exists with other content.",
    ),
    "unit_has_children": _m("Đơn vị còn đơn vị trực thuộc.", "The unit still has units under it."),
    "unit_id_conflict": _m(
        "Mã định danh đơn vị đã tồn tại với nội dung khác.",
        "A unit with this id exists with other content.",
    ),
    "as_of_before_records": _m(
        "Ngày tra cứu sớm hơn danh mục đơn vị hành chính đầu tiên có trong dữ liệu.",
        "The date is earlier than the first administrative-unit list in the records.",
        "Bản đồ hành chính chỉ được biết từ ngày {first} (danh mục đầu tiên của Tổng cục Thống "
        "kê có trong dữ liệu).",
        "The map is known from {first} (the first dated statistics office list).",
    ),
    "unit_not_valid": _m(
        "Đơn vị không tồn tại vào thời điểm đó.", "The unit does not exist at that time."
    ),
    "value_required": _m("Cần có giá trị.", "A value is required."),
    "version_overlap": _m(
        "Phiên bản trùng thời gian với một phiên bản đã có.",
        "The version overlaps an existing one.",
    ),
    "import_unreadable": _m("Tệp không phải văn bản UTF-8.", "The file is not UTF-8 text."),
    "import_header_invalid": _m(
        "Dòng tiêu đề của tệp CSV thiếu cột bắt buộc; xem `errors`.",
        "The CSV header lacks required columns; see `errors`.",
    ),
    "import_too_large": _m(
        "Tệp vượt quá giới hạn của một lần nhập (số dòng, số cột hoặc số ô).",
        "The file is over the limits of one import (rows, columns or cells).",
    ),
    "xlsx_too_large": _m(
        "Tệp XLSX khi giải nén vượt quá giới hạn (dung lượng hoặc tỉ lệ nén): không đọc tệp này.",
        "The XLSX file expands past the limits (size or compression ratio): it is not read.",
    ),
    "import_empty": _m("Tệp không có dòng dữ liệu nào.", "The file has no rows."),
    "import_rejected": _m(
        "Không có gì được nhập: một số dòng bị từ chối; xem chi tiết trong phản hồi.",
        "Nothing was imported: some rows were refused; see the response for each.",
    ),
    "import_job_not_found": _not_found("lượt nhập dữ liệu", "import job"),
    "indicator_value_import_not_found": _not_found("lượt nhập dữ liệu", "import job"),
    "import_queue_full": _m(
        "Có quá nhiều lượt nhập đang chờ; hãy thử lại sau một phút.",
        "Too many imports are waiting; try again in a minute.",
    ),
    # --- criteria -------------------------------------------------------------------------------
    "criteria_set_not_found": _m(
        "Không tìm thấy bộ tiêu chí (hoặc bạn không có quyền xem).",
        "No such criteria set (or it is outside what you may see).",
        "Không có bộ tiêu chí {id} (hoặc bạn không có quyền xem).",
        "No criteria set with id {id}.",
    ),
    "criteria_set_published": _m(
        "Bộ tiêu chí đã ban hành, không thể sửa; hãy tạo bộ dẫn xuất hoặc phiên bản mới.",
        "The criteria set is published and can no longer change; derive a new set or "
        "create a new version instead.",
        "Bộ tiêu chí {code} đã ban hành, không thể sửa; hãy tạo bộ dẫn xuất hoặc phiên bản mới.",
        "{code} is published and can no longer change; derive a new set or create a new "
        "version instead.",
    ),
    "criteria_set_retired": _m(
        "Bộ tiêu chí đã hết hiệu lực, không thể thay đổi.",
        "The criteria set is retired and can no longer change.",
    ),
    "criteria_set_not_published": _m(
        "Bộ tiêu chí chưa ban hành.", "The criteria set is not published."
    ),
    "criteria_set_transition_not_allowed": _m(
        "Bộ tiêu chí không cho phép thao tác này ở trạng thái hiện tại.",
        "The criteria set does not allow this action in its current state.",
    ),
    "criteria_set_exists": _m(
        "Đã có bộ tiêu chí với mã định danh này nhưng nội dung khác.",
        "A criteria set with this id already exists with other content.",
    ),
    "duplicate_criteria_set_code": _m(
        "Mã bộ tiêu chí đã được sử dụng.", "The criteria set code is taken."
    ),
    "ambiguous_unit_code": _m(
        "Nhiều đơn vị có cùng mã này; hãy nêu `unit_id`.",
        "Several units have this code; give `unit_id`.",
    ),
    "scope_unit_not_found": _m(
        "Không có đơn vị phạm vi này vào ngày đó.", "No such scope unit on that date."
    ),
    "scope_unit_mismatch": _m(
        "`unit_id` và `unit_code` chỉ hai đơn vị khác nhau.",
        "`unit_id` and `unit_code` name different units.",
    ),
    "scope_not_a_province": _m(
        "Phạm vi của bộ tiêu chí là toàn quốc hoặc một tỉnh.",
        "A set's scope is national or a province.",
    ),
    "derived_scope_outside_parent": _m(
        "Phạm vi của bộ dẫn xuất phải là một tỉnh trong phạm vi bộ gốc.",
        "A derived set's scope must be a province within its parent's scope.",
    ),
    "derived_set_mismatch": _m(
        "Bộ dẫn xuất không khớp với bộ gốc.", "The derived set does not match its parent."
    ),
    "unknown_criteria_set": _m(
        "Không có bộ tiêu chí với mã này.", "No criteria set has this code."
    ),
    "parent_not_published": _m(
        "Bộ gốc chưa ban hành: chỉ có thể dẫn xuất từ bộ đã ban hành.",
        "The parent is a draft: only a published set can be derived from.",
    ),
    "invalid_reference": _m(
        "Bộ tiêu chí không thể dẫn xuất hoặc sửa đổi chính nó.",
        "A set cannot derive from or amend itself.",
    ),
    "unknown_criterion": _m(
        "Tiêu chí không có trong bộ tiêu chí.", "The criterion is not in the set."
    ),
    "indicator_not_found": _m(
        "Chỉ tiêu không có trong bộ tiêu chí.", "The indicator is not in the set."
    ),
    "duplicate_indicator_code": _m("Mã chỉ tiêu bị trùng.", "An indicator code is repeated."),
    "duplicate_condition_code": _m("Mã điều kiện bị trùng.", "A condition code is repeated."),
    "duplicate_criterion_number": _m(
        "Số thứ tự tiêu chí bị trùng.", "A criterion number is repeated."
    ),
    "duplicate_group_code": _m("Mã nhóm tiêu chí bị trùng.", "A criteria group is repeated."),
    "duplicate_source_id": _m("Mã nguồn bị trùng.", "A source id is repeated."),
    "duplicate_threshold": _m("Ngưỡng bị trùng.", "A threshold is repeated."),
    "indicator_without_threshold": _m(
        "Có chỉ tiêu chưa có ngưỡng; xem `errors`.",
        "An indicator has no threshold; see `errors`.",
    ),
    "invalid_indicator": _m("Chỉ tiêu không hợp lệ.", "An indicator is not valid."),
    "threshold_out_of_range": _m(
        "Ngưỡng nằm ngoài khoảng cho phép.", "A threshold is out of range."
    ),
    "threshold_value_mismatch": _m(
        "Giá trị ngưỡng không phù hợp với loại chỉ tiêu.",
        "A threshold value does not fit the indicator's kind.",
    ),
    "title_level_mismatch": _m(
        "Danh hiệu không phù hợp với cấp đơn vị.", "The title does not fit the unit level."
    ),
    "unknown_commune_group": _m("Nhóm xã không xác định.", "Unknown commune group."),
    "unknown_criteria_group": _m("Nhóm tiêu chí không xác định.", "Unknown criteria group."),
    "unknown_region": _m("Vùng không xác định.", "Unknown region."),
    "unknown_source": _m("Nguồn không xác định.", "Unknown source."),
    "unit_level_mismatch": _m(
        "Cấp của đơn vị không phù hợp với bộ tiêu chí.",
        "The unit's level does not fit the criteria set.",
    ),
    "unit_outside_scope": _m(
        "Đơn vị nằm ngoài phạm vi của bộ tiêu chí vào ngày đó.",
        "The unit is outside the set's scope on that date.",
    ),
    "year_outside_period": _m(
        "Năm nằm ngoài thời kỳ áp dụng của bộ tiêu chí.",
        "The year is outside the set's period.",
    ),
    # --- assessments ----------------------------------------------------------------------------
    "assessment_not_found": _m(
        "Không tìm thấy bản đánh giá (hoặc bạn không có quyền xem).",
        "No such assessment (or it is outside what you may see).",
        "Không có bản đánh giá {id} (hoặc bạn không có quyền xem).",
        "No assessment with id {id}.",
    ),
    "assessment_exists": _m(
        "Đã có bản đánh giá cho đơn vị, bộ tiêu chí, năm và loại này (xem `existing_id`).",
        "An assessment already exists for this unit, criteria set, year and kind "
        "(see `existing_id`).",
        "Đã có bản đánh giá {existing_id} cho đơn vị, bộ tiêu chí, năm và loại này.",
        "Assessment {existing_id} already exists for this unit, criteria set, year and kind.",
    ),
    "assessment_conditions_not_found": _not_found("bản đánh giá", "assessment"),
    "assessment_judgements_not_found": _not_found("bản đánh giá", "assessment"),
    "assessment_values_not_found": _not_found("bản đánh giá", "assessment"),
    "assessment_locked": _m(
        "Bản đánh giá đã khóa: không thể thay đổi giá trị.",
        "The assessment is locked: its values can no longer change.",
    ),
    "assessment_transition_not_allowed": _m(
        "Bản đánh giá không cho phép chuyển trạng thái này.",
        "The assessment cannot make this transition.",
    ),
    "assessment_id_conflict": _m(
        "Đã có bản đánh giá với mã định danh này nhưng nội dung khác.",
        "An assessment with this id exists with other values.",
    ),
    "assessments_not_comparable": _m(
        "Hai bản đánh giá thuộc hai đơn vị khác nhau.",
        "The two assessments are of different units.",
    ),
    "same_assessment": _m(
        "Hãy so sánh hai bản đánh giá khác nhau.", "Compare two different assessments."
    ),
    "unit_not_valid_in_year": _m(
        "Đơn vị không có phiên bản trong năm đánh giá: bản đồ hành chính đã thay đổi.",
        "The unit has no version in the assessment's year: the map changed.",
    ),
    "indicator_not_in_set": _m(
        "Chỉ tiêu không thuộc bộ tiêu chí.", "The indicator is not in the set."
    ),
    "criterion_not_in_set": _m(
        "Tiêu chí không thuộc bộ tiêu chí.", "The criterion is not in the set."
    ),
    "condition_not_in_set": _m(
        "Điều kiện không thuộc bộ tiêu chí.", "The condition is not in the set."
    ),
    "duplicate_value": _m(
        "Một chỉ tiêu được gửi nhiều giá trị.", "An indicator is given more than one value."
    ),
    "invalid_values": _m(
        "Một số giá trị bị từ chối; xem `errors`.", "Some values were refused; see `errors`."
    ),
    "judgement_reason_required": _m(
        "Đánh giá theo nhận định cần nêu lý do.", "A judgement needs a reason."
    ),
    "reason_required": _m("Cần nêu lý do.", "A reason is required."),
    # --- recognition dossiers (app/dossiers) ---------------------------------------------------
    "dossier_not_found": _not_found("hồ sơ", "dossier"),
    "dossier_document_not_found": _not_found("tài liệu của hồ sơ", "document in this dossier"),
    "precondition_required": _m(
        "Thao tác này cần tiêu đề If-Match với ETag bạn đã đọc.",
        "This change needs If-Match with the ETag you read.",
    ),
    "dossier_id_conflict": _m(
        "Đã có hồ sơ với mã định danh này nhưng nội dung khác.",
        "A dossier with this id exists with other values.",
    ),
    "dossier_unit_not_in_year": _m(
        "Đơn vị không tồn tại trong năm của hồ sơ.",
        "The unit did not exist in the dossier's year.",
    ),
    "dossier_procedure_unknown": _m(
        "Không có quy trình xét, công nhận này.", "There is no such recognition procedure."
    ),
    "dossier_procedure_not_applicable": _m(
        "Quy trình không áp dụng cho danh hiệu và cấp đơn vị này (hoặc không có quy trình nào "
        "đang có hiệu lực).",
        "The procedure does not apply to this title and level (or none is in force).",
    ),
    "dossier_assessment_mismatch": _m(
        "Bản đánh giá không thuộc đơn vị, bộ tiêu chí và năm của hồ sơ.",
        "The assessment is not of the dossier's unit, criteria set and year.",
    ),
    "dossier_title_mismatch": _m(
        "Bộ tiêu chí không dành cho danh hiệu này.", "The criteria set is for another title."
    ),
    "dossier_transition_not_allowed": _m(
        "Trạng thái hiện tại của hồ sơ không cho phép thao tác này (xem `allowed`).",
        "The dossier's state does not allow this action (see `allowed`).",
    ),
    "dossier_reasons_required": _m(
        "Trả lại hoặc không công nhận hồ sơ phải nêu lý do.",
        "Returning or rejecting a dossier needs reasons.",
    ),
    "dossier_votes_required": _m(
        "Bước này ghi kết quả biểu quyết của hội đồng: hãy gửi `votes`.",
        "This step records the council's vote: send `votes`.",
    ),
    "dossier_votes_not_expected": _m(
        "Kết quả biểu quyết chỉ ghi ở bước thẩm định có biểu quyết.",
        "Votes are recorded only at a step with a council's vote.",
    ),
    "dossier_override_not_allowed": _m(
        "Chỉ hội đồng thẩm định mới ghi ý kiến vượt kết quả đánh giá, ở bước thẩm định.",
        "An override is recorded only by an appraisal step's action.",
    ),
    "dossier_decision_required": _m(
        "Công nhận cần quyết định: số, ngày và người ký.",
        "Recognition needs the decision: number, date and signer.",
    ),
    "dossier_decision_not_expected": _m(
        "Quyết định chỉ được ghi khi công nhận.", "A decision is given only to recognise."
    ),
    "dossier_decision_before_submission": _m(
        "Ngày quyết định trước ngày nộp hồ sơ.",
        "The decision date is before the dossier was submitted.",
    ),
    "dossier_preconditions_failed": _m(
        "Hồ sơ chưa đủ điều kiện để chuyển bước (xem `failed`).",
        "The dossier cannot move on (see `failed`).",
        "Hồ sơ chưa đủ {count} điều kiện để chuyển bước (xem `failed`).",
        "The dossier fails {count} preconditions (see `failed`).",
    ),
    "dossier_closed": _m(
        "Hồ sơ đã kết thúc: không nhận thêm tài liệu.", "The dossier has ended: no more documents."
    ),
    "dossier_document_type_unknown": _m("Loại tài liệu không hợp lệ.", "Unknown document type."),
    "dossier_document_note_too_long": _m("Ghi chú quá dài.", "The note is too long."),
    "dossier_document_empty": _m("Tệp rỗng.", "The file is empty."),
    "dossier_document_content_not_allowed": _m(
        "Nội dung tệp không thuộc loại tài liệu được chấp nhận (PDF, PNG, JPEG, Word, Excel, "
        "OpenDocument); tên và loại khai báo không được tin cậy.",
        "The file's content is not an accepted document type (PDF, PNG, JPEG, Word, Excel, "
        "OpenDocument).",
    ),
    "assessment_under_review": _m(
        "Bản đánh giá đang được xét trong một hồ sơ: giá trị bị khóa đến khi hồ sơ được trả "
        "lại hoặc kết thúc.",
        "The assessment is under review in a dossier: its values are locked until the dossier "
        "is returned or ends.",
        "Bản đánh giá đang được xét trong hồ sơ {dossier_id}: giá trị bị khóa đến khi hồ sơ "
        "được trả lại hoặc kết thúc.",
        "The assessment is under review in dossier {dossier_id}: its values are locked.",
    ),
    "step_unknown": _m(
        "Không có bước quy trình này (dạng `<quy trình>/<bước>`, xem GET /dossier-procedures).",
        "No such procedure step (`<procedure>/<step>`, see GET /dossier-procedures).",
    ),
    # --- plans (docs/plans.md) ------------------------------------------------------------------
    "plan_not_found": _not_found("kế hoạch", "plan"),
    "plan_target_not_found": _not_found("chỉ tiêu của kế hoạch", "plan target"),
    "plan_roadmap_item_not_found": _not_found("mục lộ trình", "roadmap item"),
    "plan_task_not_found": _not_found("nhiệm vụ của kế hoạch", "plan task"),
    "plan_document_not_found": _not_found("văn bản của kế hoạch", "plan document"),
    "plan_read_only": _m(
        "Kế hoạch đã bị thay thế hoặc đã kết thúc: không thể thay đổi (hãy điều chỉnh kế hoạch "
        "đang có hiệu lực).",
        "The plan is superseded or closed: it can no longer change.",
        "Kế hoạch đang ở trạng thái {status}: không thể thay đổi (hãy điều chỉnh kế hoạch đang "
        "có hiệu lực).",
        "The plan is {status}: it can no longer change.",
    ),
    "plan_id_conflict": _m(
        "Đã có kế hoạch với mã định danh này nhưng nội dung khác.",
        "A plan with this id exists with other values.",
    ),
    "item_id_conflict": _m(
        "Đã có mục với mã định danh này nhưng nội dung khác.",
        "An item with this id exists with other values.",
    ),
    "plan_period_invalid": _m(
        "Năm kết thúc của kế hoạch trước năm bắt đầu.", "The period ends before it starts."
    ),
    "plan_outside_parent_period": _m(
        "Thời kỳ của kế hoạch nằm ngoài thời kỳ của kế hoạch cấp trên.",
        "The period lies outside the parent plan's period.",
    ),
    "plan_not_draft": _m(
        "Kế hoạch đã có hiệu lực: nội dung chỉ thay đổi bằng văn bản điều chỉnh (phiên bản mới).",
        "The plan is in force: its content changes by adjustment (a new version).",
    ),
    "plan_not_in_force": _m(
        "Chỉ điều chỉnh được kế hoạch đang có hiệu lực.",
        "Only a plan in force is adjusted.",
        "Kế hoạch đang ở trạng thái {status}: chỉ điều chỉnh được kế hoạch đang có hiệu lực.",
        "The plan is {status}: only a plan in force is adjusted.",
    ),
    "plan_transition_not_allowed": _m(
        "Kế hoạch không cho phép chuyển trạng thái này.",
        "The plan does not allow this change of status.",
    ),
    "adjustment_before_plan": _m(
        "Văn bản điều chỉnh phải có ngày sau ngày của kế hoạch được điều chỉnh.",
        "An adjustment is dated after the plan it adjusts.",
    ),
    "target_year_outside_period": _m(
        "Năm nằm ngoài thời kỳ của kế hoạch.", "The year is outside the plan's period."
    ),
    "unit_outside_plan_scope": _m(
        "Đơn vị không thuộc phạm vi của kế hoạch vào ngày xác định phạm vi.",
        "The unit was not under the plan's issuing unit on the plan's scope date.",
    ),
    "title_not_granted": _m(
        "Không có bộ tiêu chí đã ban hành nào công nhận danh hiệu này ở cấp đó trong năm đó.",
        "No published criteria set grants this title at that level for that year.",
    ),
    "share_over_100": _m("Tỷ lệ không vượt quá 100%.", "A share is at most 100 (per cent)."),
    "target_title_required": _m("Chỉ tiêu này phải nêu danh hiệu.", "This target names a title."),
    "target_title_not_applicable": _m(
        "Danh hiệu không phù hợp với loại chỉ tiêu.", "The title does not fit the metric."
    ),
    "criteria_threshold_required": _m(
        "Hãy nêu số tiêu chí làm ngưỡng (dưới N tiêu chí).",
        "Say below how many criteria a commune is counted.",
    ),
    "roadmap_field_not_applicable": _m(
        "Chỉ xã nông thôn mới kiểu mẫu mới nêu lĩnh vực nổi trội.",
        "Only a model NTM commune names the field it excels in.",
    ),
    "deadline_before_plan": _m(
        "Thời hạn trước ngày ban hành kế hoạch.", "The deadline is before the plan's date."
    ),
    "document_kind_invalid": _m(
        "Loại văn bản không hợp lệ (plan, adjustment, annex, other).",
        "The document kind is one of plan, adjustment, annex, other.",
    ),
    "document_empty": _m("Tệp rỗng.", "The file is empty."),
    # --- the register of titles (recognitions) -------------------------------------------------
    "recognition_not_found": _m(
        "Không tìm thấy quyết định công nhận (hoặc bạn không có quyền xem).",
        "No such recognition (or it is outside what you may see).",
        "Không có quyết định công nhận {id}.",
        "There is no recognition {id}.",
    ),
    "recognition_exists": _m(
        "Đơn vị đã được ghi nhận danh hiệu này cho năm này (xem `existing_id`).",
        "This title is already recorded for this unit and year (see `existing_id`).",
        "Quyết định công nhận {existing_id} đã ghi nhận danh hiệu này cho đơn vị và năm này.",
        "Recognition {existing_id} already records this title for this unit and year.",
    ),
    "recognition_id_conflict": _m(
        "Đã có quyết định công nhận với mã định danh này nhưng nội dung khác.",
        "A recognition with this id exists with other values.",
    ),
    "decision_date_in_future": _m(
        "Ngày ký quyết định không được ở tương lai.",
        "The decision date is in the future.",
        "Ngày ký quyết định {date} ở tương lai.",
        "The decision date {date} is in the future.",
    ),
    "year_for_after_decision": _m(
        "Năm công nhận đạt chuẩn không được sau năm ký quyết định.",
        "The year a title is for cannot be later than the decision's year.",
    ),
    "recognition_field_not_allowed": _m(
        "Chỉ danh hiệu xã nông thôn mới kiểu mẫu mới ghi lĩnh vực nổi trội (319/QĐ-TTg).",
        "Only a model NTM commune's title names a field of excellence (319/QĐ-TTg).",
    ),
    "issuing_unit_not_found": _m(
        "Không có đơn vị ban hành quyết định này.",
        "There is no such unit to have issued the decision.",
    ),
    "recognition_already_revoked": _m(
        "Quyết định công nhận này đã bị thu hồi.",
        "This recognition has already been revoked.",
    ),
    "carry_over_not_proposed": _m(
        "Việc sáp nhập này không đề xuất danh hiệu nào được giữ lại cho đơn vị: không phải mọi "
        "đơn vị trước sáp nhập đều đạt danh hiệu (267/BNN-VPĐP).",
        "The merge proposes no title to carry over to the unit: not every predecessor held "
        "one (267/BNN-VPĐP).",
    ),
    "carry_over_title_mismatch": _m(
        "Chỉ được công nhận danh hiệu thấp nhất mà mọi đơn vị trước sáp nhập cùng đạt.",
        "Only the lowest title every predecessor held can be carried over.",
    ),
    "decision_before_merger": _m(
        "Quyết định không được ký trước ngày sáp nhập.",
        "The decision cannot precede the merger.",
    ),
    "revocation_assessment_mismatch": _m(
        "Không có bản đánh giá này của đơn vị được công nhận.",
        "There is no such assessment of the recognised unit.",
    ),
    "revocation_before_grant": _m(
        "Ngày quyết định thu hồi phải sau ngày quyết định công nhận.",
        "A revocation must be dated after the decision it revokes.",
        "Ngày quyết định thu hồi phải sau ngày công nhận {grant_date}.",
        "A revocation must be dated after the grant of {grant_date}.",
    ),
    # --- the change feed and webhooks (app/integration) ------------------------------------
    "feed_position_expired": _m(
        "Các sự kiện sau vị trí này không còn được lưu (hết thời hạn lưu giữ); hãy bắt đầu lại "
        "từ gói đồng bộ hoặc từ vị trí cũ nhất còn lưu.",
        "Events after this position are no longer kept (retention); start again from a sync "
        "bundle or from the oldest position still served.",
        "Các sự kiện sau vị trí {after} không còn được lưu (hết thời hạn lưu giữ); vị trí cũ "
        "nhất còn phục vụ là {oldest}.",
        "Events after position {after} are no longer kept (retention); the oldest position "
        "still served is {oldest}.",
    ),
    "feed_position_beyond_head": _m(
        "Vị trí `after` vượt quá sự kiện mới nhất.",
        "The position `after` is beyond the newest event.",
        "Vị trí {after} vượt quá sự kiện mới nhất ({head}).",
        "Position {after} is beyond the newest event ({head}).",
    ),
    "feed_type_unknown": _m(
        "Loại sự kiện không hợp lệ: dùng tên thực thể (`unit`) hoặc `<thực thể>.<động từ>`.",
        "Not an event type: give an entity (`unit`) or `<entity>.<verb>`.",
        "{type} không phải loại sự kiện: dùng tên thực thể (`unit`) hoặc `<thực thể>.<động từ>`.",
        "{type} is not an event type: give an entity (`unit`) or `<entity>.<verb>`.",
    ),
    "sync_unit_not_commune": _m(
        "Gói đồng bộ chỉ lập cho một xã.",
        "A sync bundle is made for a commune.",
        "Gói đồng bộ chỉ lập cho một xã; đơn vị {id} là cấp {level}.",
        "A sync bundle is made for a commune; unit {id} is a {level}.",
    ),
    "webhook_not_found": _not_found("webhook", "webhook"),
    "webhook_delivery_not_found": _not_found("lần gửi webhook", "webhook delivery"),
    "webhook_id_conflict": _m(
        "Webhook với id này đã tồn tại với nội dung khác.",
        "A webhook with this id exists with other values.",
    ),
    "webhook_url_invalid": _m(
        "URL webhook không hợp lệ (phải là URL http(s) tuyệt đối, không kèm thông tin đăng nhập).",
        "The webhook URL is not valid (an absolute http(s) URL without credentials).",
    ),
    "webhook_url_not_https": _m("URL webhook phải dùng HTTPS.", "Webhook URLs must use HTTPS."),
    "webhook_url_unresolvable": _m(
        "Không phân giải được tên máy chủ của URL webhook.",
        "The host name of the webhook URL does not resolve.",
    ),
    "webhook_url_forbidden_address": _m(
        "URL webhook trỏ tới dải địa chỉ không được phép (loopback, link-local, nội bộ hoặc dành "
        "riêng).",
        "The webhook URL points into a range webhooks may not reach (loopback, link-local, "
        "private or reserved).",
    ),
}


def title(status: int, language: Language) -> str:
    text = TITLES.get(status)
    if text is not None:
        return text.get(language)
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return phrase if language == "en" else f"Lỗi {status}"


def detail(
    code: str,
    language: Language,
    fallback: str,
    params: Mapping[str, Any] | None = None,
) -> str:
    """The problem's ``detail`` in ``language``; ``fallback`` is the raise site's English text."""
    message = MESSAGES.get(code)
    if message is None:
        if not code.startswith("http_"):
            warnings.warn(f"no message for problem code {code!r}", MissingMessageWarning, 2)
        return fallback
    if language == "en":
        # The raise site's own sentence: English answers stay exactly what they were.
        return fallback
    params = params or {}
    variant = message.variants.get(str(params.get("variant")))
    if variant is not None:
        # A variant may name values too, when the raise site passed them all.
        if placeholders(variant.vi) <= params.keys():
            return variant.vi.format_map(params)
        return variant.vi
    if params and message.specific is not None:
        template = message.specific.vi
        if placeholders(template) <= params.keys():
            return template.format_map(params)
    if params:
        warnings.warn(
            f"params {sorted(params)} do not fill the message of {code!r}",
            MissingMessageWarning,
            2,
        )
    return message.generic.vi
