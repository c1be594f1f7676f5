// REGD_TRY, shared by core's .cc files (registry, sync).
#pragma once

#include <expected>

// Returns the error of a Result whose value is not needed.
#define REGD_TRY(expr)                           \
  do {                                           \
    if (auto regd_try_ = (expr); !regd_try_) {   \
      return std::unexpected(regd_try_.error()); \
    }                                            \
  } while (false)
