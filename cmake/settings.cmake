# Compiler settings every target links: warnings as errors and the optional sanitizers.
add_library(regd_settings INTERFACE)
target_compile_options(regd_settings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wno-sign-conversion -Werror)
# GCC 12 reports -Wrestrict false positives inside libstdc++'s string concatenation at -O2/-O3
# (GCC bugs 105329, 105651): keep it a warning-free build without hiding real diagnostics.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(regd_settings INTERFACE -Wno-restrict)
endif()
target_compile_definitions(regd_settings INTERFACE OPENSSL_SUPPRESS_DEPRECATED)
if(REGD_SANITIZE)
  target_compile_options(regd_settings INTERFACE -fsanitize=${REGD_SANITIZE} -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  target_link_options(regd_settings INTERFACE -fsanitize=${REGD_SANITIZE})
endif()
