// Terminal text: display width of UTF-8 (CJK and other wide characters take
// two columns) and padding for aligned tables.
#ifndef XINFANG_TOOLS_XFCTL_TEXT_H_
#define XINFANG_TOOLS_XFCTL_TEXT_H_

#include <string>
#include <string_view>
#include <vector>

namespace xinfang::xfctl {

// Columns `s` takes on a terminal.
int DisplayWidth(std::string_view s);
// `s` padded with spaces to `width` columns.
std::string PadRight(std::string_view s, int width);
// Rows of cells as an aligned table, columns separated by two spaces.
std::string Table(const std::vector<std::vector<std::string>>& rows);

}  // namespace xinfang::xfctl

#endif  // XINFANG_TOOLS_XFCTL_TEXT_H_
