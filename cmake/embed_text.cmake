# Writes INPUT into OUTPUT as `extern const std::string_view vigil::rules::SYMBOL`.
file(READ ${INPUT} content HEX)
string(LENGTH "${content}" hexlen)
math(EXPR size "${hexlen} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "0x\\1," bytes "${content}")
string(REGEX REPLACE "((0x[0-9a-f][0-9a-f],){32})" "\\1\n" bytes "${bytes}")
file(WRITE ${OUTPUT}.tmp "// Generated from ${INPUT}; do not edit.\n#include <string_view>\nnamespace vigil::rules {\nnamespace {\nconstexpr unsigned char kBytes[] = {\n${bytes}0};\n}  // namespace\nextern const std::string_view ${SYMBOL};\nconst std::string_view ${SYMBOL}(reinterpret_cast<const char*>(kBytes), ${size});\n}  // namespace vigil::rules\n")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
