// GET /v2/<name>/tags/list and GET /v2/_catalog, paginated with n/last and a Link header.
#include <limits>

#include <nlohmann/json.hpp>

#include "error_table.h"
#include "http_util.h"
#include "regd/reference.h"
#include "routes.h"

namespace regd::daemon {
namespace {

struct Pagination {
  std::optional<size_t> n;  // absent: everything
  std::string last;
};

Result<Pagination> parse_pagination(const Request& request) {
  Pagination p;
  if (auto n = query_value(request.query, "n")) {
    auto value = parse_uint(*n);
    if (!value) {
      return fail(Errc::invalid_argument, "n must be a non-negative integer, got " + *n);
    }
    p.n = static_cast<size_t>(std::min<uint64_t>(*value, std::numeric_limits<size_t>::max()));
  }
  p.last = query_value(request.query, "last").value_or("");
  return p;
}

Response json_page(const char* key, std::optional<std::string> name, const Page& page, const Pagination& p,
                   const std::string& path) {
  nlohmann::json body;
  if (name) {
    body["name"] = *name;
  }
  body[key] = page.items;
  Response r;
  r.set("Content-Type", "application/json");
  r.body = body.dump() + "\n";
  if (page.more && p.n && !page.items.empty()) {
    r.set("Link",
          "<" + path + "?n=" + std::to_string(*p.n) + "&last=" + percent_encode(page.items.back()) + ">; rel=\"next\"");
  }
  return r;
}

// n=0 is answered with an empty page (the spec allows it); the call still proves the repo exists.
Page trim_page(Page page, const Pagination& p) {
  if (p.n && page.items.size() > *p.n) {
    page.items.resize(*p.n);
    page.more = true;
  }
  return page;
}

// The repositories after `last` the caller may see (Request::may_list), n of them at most, read
// from storage in pages and filtered as they come. One entry beyond n is looked for, so that
// `more` (the Link header) is only set when another visible repository exists.
Result<Page> visible_repositories(Context& ctx, const Request& request, const Pagination& p) {
  constexpr size_t k_batch = 500;
  size_t want = p.n ? *p.n : std::numeric_limits<size_t>::max();
  Page out;
  std::string last = p.last;
  while (true) {
    auto batch = ctx.registry.list_repositories(k_batch, last);
    if (!batch) {
      return std::unexpected(batch.error());
    }
    if (!batch->items.empty()) {
      last = batch->items.back();
    }
    for (std::string& name : batch->items) {
      if (!request.may_list(name)) {
        continue;
      }
      if (out.items.size() == want) {
        out.more = true;
        return out;
      }
      out.items.push_back(std::move(name));
    }
    if (!batch->more || batch->items.empty()) {
      return out;
    }
  }
}

}  // namespace

Outcome handle_tags_list(Context& ctx, const Request& request, const Route& route) {
  if (request.method != Method::get && request.method != Method::head) {
    return method_not_allowed("GET, HEAD");
  }
  if (auto valid = validate_repository(route.name); !valid) {
    return error_response(valid.error(), Area::tags);
  }
  auto pagination = parse_pagination(request);
  if (!pagination) {
    return error_response(pagination.error(), Area::tags);
  }
  auto page =
      ctx.registry.list_tags(route.name, pagination->n.value_or(std::numeric_limits<size_t>::max()), pagination->last);
  if (!page) {
    return error_response(page.error(), Area::tags);
  }
  return json_page("tags", route.name, trim_page(std::move(*page), *pagination), *pagination,
                   repo_path(route.name) + "/tags/list");
}

Outcome handle_catalog(Context& ctx, const Request& request, const Route&) {
  if (request.method != Method::get && request.method != Method::head) {
    return method_not_allowed("GET, HEAD");
  }
  auto pagination = parse_pagination(request);
  if (!pagination) {
    return error_response(pagination.error(), Area::base);
  }
  auto page = request.permissions ? visible_repositories(ctx, request, *pagination)
                                  : ctx.registry.list_repositories(
                                        pagination->n.value_or(std::numeric_limits<size_t>::max()), pagination->last);
  if (!page) {
    return error_response(page.error(), Area::base);
  }
  return json_page("repositories", std::nullopt, trim_page(std::move(*page), *pagination), *pagination, "/v2/_catalog");
}

}  // namespace regd::daemon
