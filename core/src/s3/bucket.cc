#include "s3/bucket.h"

#include <algorithm>

namespace regd::s3 {

namespace {

// Sends the collected bytes as the next part.
Status send_part(Client& client, const std::string& key, const std::string& id, std::vector<Part>& parts,
                 std::string& pending) {
  int number = static_cast<int>(parts.size()) + 1;
  auto etag = client.upload_part(key, id, number, std::span<const char>(pending.data(), pending.size()));
  if (!etag) {
    return std::unexpected(etag.error());
  }
  parts.push_back(Part{number, *etag});
  pending.clear();
  return {};
}

Status copy_parts(Client& client, const std::string& key, const std::string& id, std::vector<Part>& parts,
                  const Segment& segment) {
  for (uint64_t offset = 0; offset < segment.size; offset += k_max_copy) {
    int number = static_cast<int>(parts.size()) + 1;
    uint64_t length = std::min(k_max_copy, segment.size - offset);
    auto etag = client.upload_part_copy(key, id, number, segment.key, offset, length);
    if (!etag) {
      return std::unexpected(etag.error());
    }
    parts.push_back(Part{number, *etag});
  }
  return {};
}

// `client` sends the parts; `reader`, a second connection, streams the small segments in.
Status fill_parts(Client& client, Client& reader, const std::string& key, const std::string& id,
                  const std::vector<Segment>& segments, std::vector<Part>& parts) {
  std::string pending;
  for (size_t i = 0; i < segments.size(); ++i) {
    const Segment& segment = segments[i];
    bool last = i + 1 == segments.size();
    if (segment.size == 0) {
      continue;
    }
    if (pending.empty() && (segment.size >= k_min_part || last)) {
      if (auto copied = copy_parts(client, key, id, parts, segment); !copied) {
        return copied;
      }
      continue;
    }
    Status sent;
    auto read = reader.get_range(segment.key, 0, segment.size, [&](std::span<const char> data) {
      pending.append(data.data(), data.size());
      if (pending.size() >= k_part_size) {
        sent = send_part(client, key, id, parts, pending);
      }
      return sent.has_value();
    });
    if (!sent) {
      return sent;
    }
    if (!read) {
      return read;
    }
  }
  return pending.empty() ? Status{} : send_part(client, key, id, parts, pending);
}

}  // namespace

Status Bucket::for_each_object(const std::string& key_prefix, const std::function<Status(const ListedObject&)>& visit) {
  auto client = pool.get();
  std::string token;
  do {
    auto page = client->list(key_prefix, "", token);
    if (!page) {
      return std::unexpected(page.error());
    }
    for (const ListedObject& object : page->objects) {
      if (auto visited = visit(object); !visited) {
        return visited;
      }
    }
    token = page->next_token;
  } while (!token.empty());
  return {};
}

Status Bucket::copy_object(const std::string& from, uint64_t size, const std::string& to, Clock::time_point mtime) {
  if (size <= k_max_copy) {
    return pool.get()->copy(from, to, mtime);
  }
  return assemble({Segment{from, 0, size, {}}}, to);
}

Status Bucket::assemble(const std::vector<Segment>& segments, const std::string& to) {
  auto client = pool.get();
  uint64_t total = 0;
  for (const Segment& segment : segments) {
    total += segment.size;
  }
  if (total == 0) {
    auto put = client->put(to, "");
    return put ? Status{} : Status(std::unexpected(put.error()));
  }
  auto id = client->create_multipart(to);
  if (!id) {
    return std::unexpected(id.error());
  }
  std::vector<Part> parts;
  auto reader = pool.get();
  Status done = fill_parts(*client, *reader, to, *id, segments, parts);
  if (done) {
    done = client->complete_multipart(to, *id, parts);
  }
  if (!done) {
    (void)client->abort_multipart(to, *id);
  }
  return done;
}

}  // namespace regd::s3
