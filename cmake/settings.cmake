# Compiler settings every target links: warnings as errors and the optional sanitizers.
add_library(regd_settings INTERFACE)
target_compile_options(regd_settings INTERFACE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
  -Wno-sign-conversion)
# Off only for the ThreadSanitizer build: GCC 12 floods libstdc++'s std::string with
# -Wstringop-overflow/-Warray-bounds false positives under -fsanitize=thread.
option(REGD_WERROR "Treat warnings as errors" ON)
if(REGD_WERROR)
  target_compile_options(regd_settings INTERFACE -Werror)
endif()
# GCC 12 reports false positives deep inside libstdc++ and Boost once inlined: -Wrestrict in
# string concatenation at -O2/-O3 (GCC bugs 105329, 105651) and -Wmaybe-uninitialized in
# std::regex and boost::optional at -O1 with sanitizers, -Warray-bounds/-Wstringop-overflow/-Wstringop-overread in
# std::string copies at -O2 (GCC bug 105545), -Wmismatched-new-delete on Asio's coroutine frames
# (the sized operator delete of a promise type, GCC bug 109224). Newer compilers keep all of them.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(regd_settings INTERFACE -Wno-restrict -Wno-maybe-uninitialized -Wno-array-bounds
    -Wno-stringop-overflow -Wno-stringop-overread -Wno-mismatched-new-delete)
endif()
# A unity build (CMAKE_UNITY_BUILD, what scripts/test.sh uses to compile in half the time) includes
# each .cc into a batch file: GCC then takes a coroutine frame of a type in a .cc's anonymous
# namespace for a header's type without linkage (-Wsubobject-linkage), which it is not.
if(CMAKE_UNITY_BUILD AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(regd_settings INTERFACE -Wno-subobject-linkage)
endif()
target_compile_definitions(regd_settings INTERFACE OPENSSL_SUPPRESS_DEPRECATED)
if(REGD_SANITIZE)
  target_compile_options(regd_settings INTERFACE -fsanitize=${REGD_SANITIZE} -fno-omit-frame-pointer
    -fno-sanitize-recover=all)
  target_link_options(regd_settings INTERFACE -fsanitize=${REGD_SANITIZE})
endif()
# The fuzz build: every library gets libFuzzer's coverage instrumentation, ASan and UBSan; the
# fuzz targets link libFuzzer itself (tests/fuzz). libstdc++ 12 hides std::expected from clang
# 16 (it tests __cpp_concepts >= 202002L; clang 16 says 201907L although it implements what
# <expected> needs: conditionally trivial destructors, P0848, which clang 14 lacks). Compilers
# that already say 202002L are not affected by the redefinition.
if(REGD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang" OR CMAKE_CXX_COMPILER_VERSION VERSION_LESS 16)
    message(FATAL_ERROR "REGD_FUZZ needs clang 16 or later (CXX=clang++-16), not ${CMAKE_CXX_COMPILER_ID} "
      "${CMAKE_CXX_COMPILER_VERSION}")
  endif()
  target_compile_options(regd_settings INTERFACE -fsanitize=fuzzer-no-link,address,undefined
    -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(regd_settings INTERFACE -fsanitize=address,undefined)
  target_compile_options(regd_settings INTERFACE -U__cpp_concepts -D__cpp_concepts=202002L)
endif()
