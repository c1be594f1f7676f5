// GET /v2/<name>/referrers/<digest>[?artifactType=]: an OCI image index of the manifests whose
// subject is <digest>. An unknown subject yields an empty index (spec), never 404.
#include <nlohmann/json.hpp>

#include "error_table.h"
#include "http_util.h"
#include "regd/reference.h"
#include "routes.h"

namespace regd::daemon {
namespace {

nlohmann::ordered_json descriptor_json(const Descriptor& d) {
  nlohmann::ordered_json j;
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.str();
  j["size"] = d.size;
  if (!d.artifact_type.empty()) {
    j["artifactType"] = d.artifact_type;
  }
  if (!d.annotations.empty()) {
    j["annotations"] = d.annotations;
  }
  return j;
}

}  // namespace

Outcome handle_referrers(Context& ctx, const Request& request, const Route& route) {
  if (request.method != Method::get && request.method != Method::head) {
    return method_not_allowed("GET, HEAD");
  }
  if (auto valid = validate_repository(route.name); !valid) {
    return error_response(valid.error(), Area::referrers);
  }
  auto subject = Digest::parse(route.ref);
  if (!subject) {
    return error_response(subject.error(), Area::referrers);
  }
  auto artifact_type = query_value(request.query, "artifactType");
  auto referrers = ctx.registry.list_referrers(
      route.name, *subject, artifact_type ? std::optional<std::string_view>(*artifact_type) : std::nullopt);
  if (!referrers) {
    return error_response(referrers.error(), Area::referrers);
  }
  nlohmann::ordered_json index;
  index["schemaVersion"] = 2;
  index["mediaType"] = media_type::oci_index;
  index["manifests"] = nlohmann::ordered_json::array();
  for (const auto& d : *referrers) {
    index["manifests"].push_back(descriptor_json(d));
  }
  Response r;
  r.set("Content-Type", std::string(media_type::oci_index));
  if (artifact_type) {
    r.set("OCI-Filters-Applied", "artifactType");
  }
  r.body = index.dump();
  return r;
}

}  // namespace regd::daemon
