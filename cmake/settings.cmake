# Compiler settings every target links: warnings as errors and the optional sanitizers.
add_library(regd_settings INTERFACE)
target_compile_options(regd_settings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wno-sign-conversion -Werror)
target_compile_definitions(regd_settings INTERFACE OPENSSL_SUPPRESS_DEPRECATED)
if(REGD_SANITIZE)
  target_compile_options(regd_settings INTERFACE -fsanitize=${REGD_SANITIZE} -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  target_link_options(regd_settings INTERFACE -fsanitize=${REGD_SANITIZE})
endif()
