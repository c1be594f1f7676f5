#include "s3/storage.h"

#include <algorithm>

#include "regd/storage_stats.h"
#include "s3/bucket.h"
#include "s3/files.h"
#include "s3/locks.h"
#include "try.h"

namespace regd::s3 {

namespace {

// Internal names list() never shows: temp names (list_temps shows those) and the pieces of
// appendable files.
bool hidden(std::string_view name) {
  return name.starts_with(".tmp-") || name.starts_with(".pieces-");
}

// An upload's data is the one file appended to (upload_writer.cc): only it is held in pieces.
bool appendable(const std::string& path) {
  return path.ends_with("/data") && path.find("/_uploads/") != std::string::npos;
}

template <class T>
Result<T> counted(Result<T> result) {
  if (!result) {
    count_storage_error(result.error().code);
  }
  return result;
}

uint64_t total_size(const std::vector<Segment>& segments) {
  uint64_t size = 0;
  for (const Segment& segment : segments) {
    size += segment.size;
  }
  return size;
}

class S3Storage : public Storage {
 public:
  S3Storage(Endpoint endpoint, std::string prefix, std::chrono::seconds lock_ttl)
      : m_bucket(std::move(endpoint), std::move(prefix)), m_locks(m_bucket, lock_ttl) {}

  Result<std::string> read(const std::string& path, size_t max_size) override {
    REGD_TRY(check_storage_path(path));
    if (appendable(path)) {
      auto file = open_read(path);
      if (!file) {
        return std::unexpected(file.error());
      }
      if ((*file)->size() > max_size) {
        return fail(Errc::too_large, path + ": over " + std::to_string(max_size) + " bytes");
      }
      std::string out((*file)->size(), '\0');
      auto got = read_full_at(**file, 0, out);
      if (!got) {
        return std::unexpected(got.error());
      }
      out.resize(*got);
      return out;
    }
    return counted(m_bucket.pool.get()->get(key(path), max_size));
  }

  Result<std::unique_ptr<ReadFile>> open_read(const std::string& path) override {
    REGD_TRY(check_storage_path(path));
    auto segments = file_segments(path);
    if (!segments) {
      return std::unexpected(segments.error());
    }
    return make_read_file(m_bucket, std::move(*segments));
  }

  Result<std::unique_ptr<WriteFile>> create(const std::string& path) override {
    REGD_TRY(check_storage_path(path));
    return make_write_file(m_bucket, key(path));
  }

  Result<std::unique_ptr<AppendFile>> open_append(const std::string& path, bool create) override {
    REGD_TRY(check_storage_path(path));
    if (!appendable(path)) {
      return fail(Errc::invalid_argument, path + ": only an upload's data is appended to on S3");
    }
    std::vector<std::string> orphans;
    auto segments = counted(pieced_segments(m_bucket, key(path), &orphans));
    if (!segments) {
      return std::unexpected(segments.error());
    }
    // Appending after a gap would join the orphans again: they go first, last one first.
    for (auto it = orphans.rbegin(); it != orphans.rend(); ++it) {
      REGD_TRY(counted(m_bucket.pool.get()->remove(*it)));
    }
    if (segments->empty()) {
      if (!create) {
        return fail(Errc::not_found, path + ": no such file");
      }
      auto put = counted(m_bucket.pool.get()->put(key(path), ""));
      if (!put) {
        return std::unexpected(put.error());
      }
    }
    return make_append_file(m_bucket, key(path), std::move(*segments));
  }

  // A file is copied server-side (an appended one assembled from its pieces), then its source
  // removed; a directory is copied object by object, then removed. Readers of the target see the
  // old or the new object, never a mix; a crash between copy and delete leaves both.
  Status rename(const std::string& from, const std::string& to) override {
    REGD_TRY(check_storage_path(from));
    REGD_TRY(check_storage_path(to));
    if (appendable(from)) {
      auto segments = file_segments(from);
      if (!segments) {
        return std::unexpected(segments.error());
      }
      REGD_TRY(counted(m_bucket.assemble(*segments, key(to))));
      return remove_all(from);
    }
    auto client = m_bucket.pool.get();
    auto info = client->head(key(from));
    if (info) {
      REGD_TRY(counted(m_bucket.copy_object(key(from), info->size, key(to), info->mtime)));
      return counted(client->remove(key(from)));
    }
    if (info.error().code != Errc::not_found) {
      return counted(Status(std::unexpected(info.error())));
    }
    return rename_directory(from, to);
  }

  Status list(const std::string& dir, const std::function<Status(const DirEntry&)>& visit) override {
    std::vector<DirEntry> entries;
    REGD_TRY(list_children(dir, [&](const DirEntry& entry, const FileInfo&) {
      if (!hidden(entry.name)) {
        entries.push_back(entry);
      }
    }));
    for (const DirEntry& entry : entries) {
      REGD_TRY(visit(entry));
    }
    return {};
  }

  Status list_temps(const std::string& dir,
                    const std::function<Status(const DirEntry&, const FileInfo&)>& visit) override {
    std::vector<std::pair<DirEntry, FileInfo>> temps;
    REGD_TRY(list_children(dir, [&](const DirEntry& entry, const FileInfo& info) {
      if (entry.name.starts_with(".tmp-")) {
        temps.emplace_back(entry, info);
      }
    }));
    for (auto& [entry, info] : temps) {
      if (entry.type == EntryType::directory) {
        // A directory's age is its newest object's.
        REGD_TRY(counted(m_bucket.for_each_object(key(dir + "/" + entry.name) + "/", [&](const ListedObject& object) {
          info.mtime = std::max(info.mtime, object.info.last_modified);
          return Status{};
        })));
      }
      REGD_TRY(visit(entry, info));
    }
    return {};
  }

  Status remove(const std::string& path) override {
    REGD_TRY(check_storage_path(path));
    auto client = m_bucket.pool.get();
    if (appendable(path)) {
      auto segments = file_segments(path);
      if (!segments) {
        return std::unexpected(segments.error());
      }
      return remove_all(path);
    }
    auto info = client->head(key(path));
    if (info) {
      return counted(client->remove(key(path)));
    }
    if (info.error().code != Errc::not_found) {
      return counted(Status(std::unexpected(info.error())));
    }
    // A directory: removable when nothing but its marker (make_directory) is in it.
    auto page = counted(client->list(key(path) + "/", "", "", 2));
    if (!page) {
      return std::unexpected(page.error());
    }
    if (page->objects.empty()) {
      return fail(Errc::not_found, path + ": no such file or directory");
    }
    if (page->objects.size() > 1 || page->objects.front().key != key(path) + "/") {
      return fail(Errc::conflict, "remove " + path + ": directory not empty");
    }
    return counted(client->remove(key(path) + "/"));
  }

  Status remove_all(const std::string& path) override {
    REGD_TRY(check_storage_path(path));
    auto client = m_bucket.pool.get();
    REGD_TRY(counted(client->remove(key(path))));
    if (appendable(path)) {
      REGD_TRY(remove_prefix(pieces_prefix(key(path))));
    }
    return remove_prefix(key(path) + "/");
  }

  Result<FileInfo> stat(const std::string& path) override {
    REGD_TRY(check_storage_path(path));
    if (appendable(path)) {
      auto segments = file_segments(path);
      if (!segments) {
        return std::unexpected(segments.error());
      }
      FileInfo info{total_size(*segments), {}, EntryType::file};
      for (const Segment& segment : *segments) {
        info.mtime = std::max(info.mtime, segment.mtime);
      }
      return info;
    }
    auto client = m_bucket.pool.get();
    auto object = client->head(key(path));
    if (object) {
      return FileInfo{object->size, object->mtime, EntryType::file};
    }
    if (object.error().code != Errc::not_found) {
      return counted(Result<FileInfo>(std::unexpected(object.error())));
    }
    auto page = counted(client->list(key(path) + "/", "", "", 1));
    if (!page) {
      return std::unexpected(page.error());
    }
    if (page->objects.empty()) {
      return fail(Errc::not_found, path + ": no such file or directory");
    }
    return FileInfo{0, page->objects.front().info.last_modified, EntryType::directory};
  }

  // Copying an object onto itself gives it a new LastModified.
  Status touch(const std::string& path) override {
    REGD_TRY(check_storage_path(path));
    return counted(m_bucket.pool.get()->copy(key(path), key(path)));
  }

  Result<std::unique_ptr<Lock>> lock(const std::string& path, bool wait) override {
    REGD_TRY(check_storage_path(path));
    return counted(m_locks.acquire(key(path), wait));
  }

  // The LastModified the store gives a marker written now (whole seconds: GC compares with >=,
  // so the truncation only ever keeps more).
  Result<Clock::time_point> now(const std::string& path) override {
    REGD_TRY(check_storage_path(path));
    auto client = m_bucket.pool.get();
    auto put = counted(client->put(key(path), ""));
    if (!put) {
      return std::unexpected(put.error());
    }
    auto info = counted(client->head(key(path)));
    if (!info) {
      return std::unexpected(info.error());
    }
    return info->last_modified;
  }

  Status make_directory(const std::string& path) override {
    REGD_TRY(check_storage_path(path));
    auto put = counted(m_bucket.pool.get()->put(key(path) + "/", ""));
    return put ? Status{} : Status(std::unexpected(put.error()));
  }

  std::optional<std::string> presign_get(const std::string& path, std::chrono::seconds ttl) override {
    if (!check_storage_path(path)) {
      return std::nullopt;
    }
    return m_bucket.pool.get()->presign_get(key(path), ttl);
  }

  bool lists_in_order() const override { return true; }

 private:
  std::string key(const std::string& path) const { return m_bucket.key(path); }

  // The objects holding the file at `path`. Errors: not_found, denied, io_error.
  Result<std::vector<Segment>> file_segments(const std::string& path) {
    if (appendable(path)) {
      auto segments = counted(pieced_segments(m_bucket, key(path)));
      if (segments && segments->empty()) {
        return fail(Errc::not_found, path + ": no such file");
      }
      return segments;
    }
    auto info = counted(m_bucket.pool.get()->head(key(path)));
    if (!info) {
      return std::unexpected(info.error());
    }
    return std::vector<Segment>{Segment{key(path), 0, info->size, info->mtime}};
  }

  // The entries directly in `dir` (hidden ones too), in name order, each with what the listing
  // tells of it (a directory's mtime is left for list_temps to find). Errors: not_found (nothing
  // under dir), denied, io_error.
  Status list_children(const std::string& dir, const std::function<void(const DirEntry&, const FileInfo&)>& add) {
    REGD_TRY(check_storage_path(dir));
    std::string prefix = key(dir) + "/";
    std::vector<std::pair<DirEntry, FileInfo>> entries;
    bool any = false;
    auto client = m_bucket.pool.get();
    std::string token;
    do {
      auto page = counted(client->list(prefix, "/", token));
      if (!page) {
        return std::unexpected(page.error());
      }
      for (const std::string& sub : page->prefixes) {
        any = true;
        std::string name = sub.substr(prefix.size(), sub.size() - prefix.size() - 1);
        entries.emplace_back(DirEntry{name, EntryType::directory}, FileInfo{0, {}, EntryType::directory});
      }
      for (const ListedObject& object : page->objects) {
        any = true;
        std::string name = object.key.substr(prefix.size());
        if (!name.empty()) {  // "" is the directory's own marker
          entries.emplace_back(DirEntry{name, EntryType::file},
                               FileInfo{object.info.size, object.info.last_modified, EntryType::file});
        }
      }
      token = page->next_token;
    } while (!token.empty());
    if (!any) {
      return fail(Errc::not_found, dir + ": no such directory");
    }
    std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.first.name < b.first.name; });
    for (const auto& [entry, info] : entries) {
      add(entry, info);
    }
    return {};
  }

  // Like rename(2) of a directory: refused (conflict) when the target holds anything.
  Status rename_directory(const std::string& from, const std::string& to) {
    auto client = m_bucket.pool.get();
    auto target = counted(client->list(key(to) + "/", "", "", 1));
    if (!target) {
      return std::unexpected(target.error());
    }
    if (!target->objects.empty()) {
      return fail(Errc::conflict, "rename " + from + " to " + to + ": target not empty");
    }
    std::string source = key(from) + "/";
    std::vector<ListedObject> objects;
    REGD_TRY(counted(m_bucket.for_each_object(source, [&](const ListedObject& object) {
      objects.push_back(object);
      return Status{};
    })));
    if (objects.empty()) {
      return fail(Errc::not_found, "rename " + from + ": no such file or directory");
    }
    std::string dest = key(to) + "/";
    for (const ListedObject& object : objects) {
      // A listing does not carry the mtime a renamed object keeps: HEAD has it.
      auto info = counted(client->head(object.key));
      if (!info) {
        return std::unexpected(info.error());
      }
      REGD_TRY(
          counted(m_bucket.copy_object(object.key, info->size, dest + object.key.substr(source.size()), info->mtime)));
    }
    for (const ListedObject& object : objects) {
      REGD_TRY(counted(client->remove(object.key)));
    }
    return {};
  }

  Status remove_prefix(const std::string& prefix) {
    std::vector<std::string> keys;
    REGD_TRY(counted(m_bucket.for_each_object(prefix, [&](const ListedObject& object) {
      keys.push_back(object.key);
      return Status{};
    })));
    // Last key first: an upload's pieces go from the end, so an interrupted removal leaves a
    // shorter file, never one with a gap; its startedat goes before its data.
    auto client = m_bucket.pool.get();
    for (auto it = keys.rbegin(); it != keys.rend(); ++it) {
      REGD_TRY(counted(client->remove(*it)));
    }
    return {};
  }

  Bucket m_bucket;
  LockTable m_locks;
};

}  // namespace

std::unique_ptr<Storage> make_storage(Endpoint endpoint, std::string prefix, std::chrono::seconds lock_ttl) {
  endpoint.shown_prefix = prefix;
  return std::make_unique<S3Storage>(std::move(endpoint), std::move(prefix), lock_ttl);
}

}  // namespace regd::s3
