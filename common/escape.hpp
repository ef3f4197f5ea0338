// cube::escape — text from users or files made safe to show on a terminal.
//
// Contract: escape_controls() returns `text` with every byte a terminal could act on written as
// `\xNN`: C0 controls (tab and newline included), DEL, the C1 controls (U+0080–U+009F, as UTF-8 or
// as single bytes, which some terminals read as ESC [) and every byte that is not part of valid
// UTF-8. Other UTF-8 (…, —, letters) is kept. Every diagnostic line and every table cell goes
// through it, so no label, path or file content can repaint the operator's terminal.
#pragma once

#include <string>
#include <string_view>

namespace cube {

std::string escape_controls(std::string_view text);
// The offset of the first byte of `text` that is not part of valid UTF-8 (C1 controls count as
// valid here), or npos.
size_t first_invalid_utf8(std::string_view text);

}  // namespace cube
