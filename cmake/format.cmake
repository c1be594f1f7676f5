# `format` rewrites every C++ file with clang-format; `check-format` fails on any difference.
find_program(CLANG_FORMAT clang-format)
if(CLANG_FORMAT)
  file(GLOB_RECURSE REGD_FORMAT_FILES CONFIGURE_DEPENDS
    ${PROJECT_SOURCE_DIR}/core/*.h ${PROJECT_SOURCE_DIR}/core/*.cc
    ${PROJECT_SOURCE_DIR}/cli/*.h ${PROJECT_SOURCE_DIR}/cli/*.cc
    ${PROJECT_SOURCE_DIR}/daemon/*.h ${PROJECT_SOURCE_DIR}/daemon/*.cc
    ${PROJECT_SOURCE_DIR}/tests/*.h ${PROJECT_SOURCE_DIR}/tests/*.cc)
  add_custom_target(format COMMAND ${CLANG_FORMAT} -i ${REGD_FORMAT_FILES})
  add_custom_target(check-format COMMAND ${CLANG_FORMAT} --dry-run -Werror ${REGD_FORMAT_FILES})
endif()
