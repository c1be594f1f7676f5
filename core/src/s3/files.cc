#include "s3/files.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "try.h"

namespace regd::s3 {

namespace {

// A ReadFile fetches this much ahead of a small read, one request per window; the window doubles
// while reads run sequentially (a blob streamed to a client), up to the maximum: a 256 MiB GET
// takes 35 requests instead of 128, and a stream never holds more than 8 MiB.
constexpr size_t k_read_window = 2u << 20;
constexpr size_t k_max_read_window = 8u << 20;
constexpr size_t k_offset_digits = 20;

std::string piece_name(uint64_t offset) {
  std::string digits = std::to_string(offset);
  return std::string(k_offset_digits - digits.size(), '0') + digits;
}

class ObjectReadFile : public ReadFile {
 public:
  ObjectReadFile(Bucket& bucket, std::vector<Segment> segments) : m_bucket(bucket), m_segments(std::move(segments)) {
    for (const Segment& segment : m_segments) {
      m_size += segment.size;
    }
  }

  uint64_t size() const override { return m_size; }
  int native_handle() const override { return -1; }

  Result<size_t> read_at(uint64_t offset, std::span<char> buf) override {
    if (offset >= m_size || buf.empty()) {
      return 0;
    }
    if (offset < m_window_start || offset >= m_window_start + m_window.size()) {
      // A large read goes straight into the caller's buffer; a small one fills the window.
      const Segment& segment = segment_at(offset);
      uint64_t left = segment.offset + segment.size - offset;
      if (buf.size() >= m_window_limit) {
        size_t want = static_cast<size_t>(std::min<uint64_t>(buf.size(), left));
        size_t got = 0;
        REGD_TRY(fetch(segment, offset, want, [&](std::span<const char> data) {
          std::memcpy(buf.data() + got, data.data(), data.size());
          got += data.size();
        }));
        return got;
      }
      bool sequential = !m_window.empty() && offset == m_window_start + m_window.size();
      m_window_limit = sequential ? std::min(m_window_limit * 2, k_max_read_window) : k_read_window;
      m_window.clear();
      m_window_start = offset;
      size_t want = static_cast<size_t>(std::min<uint64_t>(m_window_limit, left));
      REGD_TRY(
          fetch(segment, offset, want, [&](std::span<const char> data) { m_window.append(data.data(), data.size()); }));
    }
    size_t from = static_cast<size_t>(offset - m_window_start);
    size_t n = std::min(buf.size(), m_window.size() - from);
    std::memcpy(buf.data(), m_window.data() + from, n);
    return n;
  }

 private:
  const Segment& segment_at(uint64_t offset) const {
    auto it = std::upper_bound(m_segments.begin(), m_segments.end(), offset,
                               [](uint64_t value, const Segment& segment) { return value < segment.offset; });
    return *std::prev(it);
  }

  template <class Sink>
  Status fetch(const Segment& segment, uint64_t offset, size_t length, Sink&& sink) {
    size_t received = 0;
    return m_bucket.pool.get()->get_range(segment.key, offset - segment.offset, length,
                                          [&](std::span<const char> data) {
                                            if (received + data.size() > length) {
                                              return false;
                                            }
                                            received += data.size();
                                            sink(data);
                                            return true;
                                          });
  }

  Bucket& m_bucket;
  std::vector<Segment> m_segments;
  uint64_t m_size = 0;
  std::string m_window;
  uint64_t m_window_start = 0;
  size_t m_window_limit = k_read_window;
};

class ObjectWriteFile : public WriteFile {
 public:
  ObjectWriteFile(Bucket& bucket, std::string key) : m_bucket(bucket), m_key(std::move(key)) {}
  ~ObjectWriteFile() override {
    if (!m_upload_id.empty()) {
      (void)m_bucket.pool.get()->abort_multipart(m_key, m_upload_id);
    }
  }

  Status write(std::span<const char> data) override {
    m_buffer.append(data.data(), data.size());
    m_size += data.size();
    return m_buffer.size() >= k_part_size ? send_part() : Status{};
  }
  uint64_t size() const override { return m_size; }

  Status commit() override {
    auto client = m_bucket.pool.get();
    if (m_upload_id.empty()) {
      auto put = client->put(m_key, m_buffer);
      return put ? Status{} : Status(std::unexpected(put.error()));
    }
    if (!m_buffer.empty()) {
      REGD_TRY(send_part());
    }
    REGD_TRY(client->complete_multipart(m_key, m_upload_id, m_parts));
    m_upload_id.clear();
    return {};
  }

 private:
  Status send_part() {
    auto client = m_bucket.pool.get();
    if (m_upload_id.empty()) {
      auto id = client->create_multipart(m_key);
      if (!id) {
        return std::unexpected(id.error());
      }
      m_upload_id = *id;
    }
    int number = static_cast<int>(m_parts.size()) + 1;
    auto etag =
        client->upload_part(m_key, m_upload_id, number, std::span<const char>(m_buffer.data(), m_buffer.size()));
    if (!etag) {
      return std::unexpected(etag.error());
    }
    m_parts.push_back(Part{number, *etag});
    m_buffer.clear();
    return {};
  }

  Bucket& m_bucket;
  std::string m_key;
  std::string m_buffer;
  uint64_t m_size = 0;
  std::string m_upload_id;
  std::vector<Part> m_parts;
};

// Appends become pieces of up to 8 MiB, each written when full and at sync(); what is stored
// is visible to every instance at once (as a POSIX append is), the buffer only to this handle.
class PiecedAppendFile : public AppendFile {
 public:
  PiecedAppendFile(Bucket& bucket, std::string key, std::vector<Segment> segments)
      : m_bucket(bucket), m_pieces(pieces_prefix(key)), m_segments(std::move(segments)) {
    for (const Segment& segment : m_segments) {
      m_stored += segment.size;
    }
  }
  ~PiecedAppendFile() override { (void)flush(); }

  uint64_t size() const override { return m_stored + m_buffer.size(); }

  Status append(std::span<const char> data) override {
    m_buffer.append(data.data(), data.size());
    return m_buffer.size() >= k_part_size ? flush() : Status{};
  }

  Status truncate(uint64_t size) override {
    if (size >= m_stored) {
      m_buffer.resize(std::min<size_t>(m_buffer.size(), static_cast<size_t>(size - m_stored)));
      return {};
    }
    m_buffer.clear();
    auto client = m_bucket.pool.get();
    while (!m_segments.empty() && m_segments.back().offset + m_segments.back().size > size) {
      Segment& last = m_segments.back();
      if (last.offset >= size && last.offset > 0) {
        REGD_TRY(client->remove(last.key));
        m_segments.pop_back();
        continue;
      }
      // Cut within one object: rewrite its first part (a piece is at most 8 MiB; a base
      // object is written empty by the core, so this never reads much).
      std::string kept;
      REGD_TRY(client->get_range(last.key, 0, size - last.offset, [&](std::span<const char> data) {
        kept.append(data.data(), data.size());
        return kept.size() <= k_part_size;
      }));
      auto put = client->put(last.key, kept);
      if (!put) {
        return std::unexpected(put.error());
      }
      last.size = kept.size();
    }
    m_stored = size;
    return {};
  }

  Status sync() override { return flush(); }

 private:
  Status flush() {
    if (m_buffer.empty()) {
      return {};
    }
    std::string key = m_pieces + piece_name(m_stored);
    auto put = m_bucket.pool.get()->put(key, m_buffer);
    if (!put) {
      return std::unexpected(put.error());
    }
    m_segments.push_back(Segment{key, m_stored, m_buffer.size(), {}});
    m_stored += m_buffer.size();
    m_buffer.clear();
    return {};
  }

  Bucket& m_bucket;
  std::string m_pieces;
  std::vector<Segment> m_segments;
  uint64_t m_stored = 0;
  std::string m_buffer;
};

}  // namespace

std::string pieces_prefix(const std::string& key) {
  auto slash = key.rfind('/');
  std::string dir = slash == std::string::npos ? "" : key.substr(0, slash + 1);
  std::string name = slash == std::string::npos ? key : key.substr(slash + 1);
  return dir + ".pieces-" + name + "/";
}

Result<std::vector<Segment>> pieced_segments(Bucket& bucket, const std::string& key,
                                             std::vector<std::string>* orphans) {
  std::vector<Segment> segments;
  auto base = bucket.pool.get()->head(key);
  if (base) {
    segments.push_back(Segment{key, 0, base->size, base->last_modified});
  } else if (base.error().code != Errc::not_found) {
    return std::unexpected(base.error());
  }
  uint64_t end = base ? base->size : 0;
  bool broken = false;
  std::string prefix = pieces_prefix(key);
  auto listed = bucket.for_each_object(prefix, [&](const ListedObject& object) -> Status {
    std::string_view name = std::string_view(object.key).substr(prefix.size());
    uint64_t offset = 0;
    auto [ptr, ec] = std::from_chars(name.data(), name.data() + name.size(), offset);
    if (ec != std::errc() || ptr != name.data() + name.size() || name.size() != k_offset_digits) {
      return {};  // not a piece
    }
    // The file ends where the pieces stop being contiguous: what lies beyond is what a removal
    // (last piece first) or a cut-back did not finish removing.
    broken = broken || offset != end;
    if (broken) {
      if (orphans != nullptr) {
        orphans->push_back(object.key);
      }
      return {};
    }
    segments.push_back(Segment{object.key, offset, object.info.size, object.info.last_modified});
    end += object.info.size;
    return {};
  });
  if (!listed) {
    return std::unexpected(listed.error());
  }
  return segments;
}

std::unique_ptr<ReadFile> make_read_file(Bucket& bucket, std::vector<Segment> segments) {
  return std::make_unique<ObjectReadFile>(bucket, std::move(segments));
}

std::unique_ptr<WriteFile> make_write_file(Bucket& bucket, std::string key) {
  return std::make_unique<ObjectWriteFile>(bucket, std::move(key));
}

std::unique_ptr<AppendFile> make_append_file(Bucket& bucket, std::string key, std::vector<Segment> segments) {
  return std::make_unique<PiecedAppendFile>(bucket, std::move(key), std::move(segments));
}

}  // namespace regd::s3
