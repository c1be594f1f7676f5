#include "tar_archive.h"

#include <archive.h>
#include <archive_entry.h>

#include "file_io.h"
#include "test_util.h"

namespace regd::cli {
namespace {

using regd::testing::TempDir;

// A tar holding one regular file named `name`.
void write_raw_tar(const std::filesystem::path& file, const char* name) {
  struct archive* a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  ASSERT_EQ(archive_write_open_filename(a, file.c_str()), ARCHIVE_OK);
  struct archive_entry* e = archive_entry_new();
  archive_entry_set_pathname(e, name);
  archive_entry_set_filetype(e, AE_IFREG);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, 2);
  archive_write_header(a, e);
  archive_write_data(a, "hi", 2);
  archive_entry_free(e);
  archive_write_close(a);
  archive_write_free(a);
}

TEST(TarArchive, WriteThenExtractRoundTripsATree) {
  TempDir dir;
  ASSERT_OK(write_small_file(dir.path() / "in/index.json", "{}"));
  ASSERT_OK(write_small_file(dir.path() / "in/blobs/sha256/ab", std::string(3 << 20, 'x')));
  ASSERT_OK(write_tar(dir.path() / "in", dir.path() / "a.tar"));
  ASSERT_OK(extract_tar(dir.path() / "a.tar", dir.path() / "out", false));
  EXPECT_EQ(*read_small_file(dir.path() / "out/index.json", 10), "{}");
  EXPECT_EQ(read_small_file(dir.path() / "out/blobs/sha256/ab", 4 << 20)->size(), 3u << 20);
}

TEST(TarArchive, EqualTreesGiveEqualArchives) {
  TempDir dir;
  ASSERT_OK(write_small_file(dir.path() / "in/b", "b"));
  ASSERT_OK(write_small_file(dir.path() / "in/a", "a"));
  ASSERT_OK(write_tar(dir.path() / "in", dir.path() / "1.tar"));
  ASSERT_OK(write_tar(dir.path() / "in", dir.path() / "2.tar"));
  EXPECT_EQ(*read_small_file(dir.path() / "1.tar", 1 << 20), *read_small_file(dir.path() / "2.tar", 1 << 20));
}

TEST(TarArchive, RefusesEntriesEscapingTheTarget) {
  TempDir dir;
  write_raw_tar(dir.path() / "evil.tar", "../escape");
  EXPECT_ERRC(extract_tar(dir.path() / "evil.tar", dir.path() / "out", false), Errc::corrupt);
  EXPECT_FALSE(std::filesystem::exists(dir.path() / "escape"));
  write_raw_tar(dir.path() / "abs.tar", "/tmp/regctl-absolute-test");
  EXPECT_ERRC(extract_tar(dir.path() / "abs.tar", dir.path() / "out", false), Errc::corrupt);
}

TEST(TarArchive, MissingOrGarbageInputIsAnError) {
  TempDir dir;
  EXPECT_ERRC(extract_tar(dir.path() / "none.tar", dir.path() / "out", false), Errc::not_found);
  ASSERT_OK(write_small_file(dir.path() / "junk.tar", std::string(1000, 'j')));
  EXPECT_ERRC(extract_tar(dir.path() / "junk.tar", dir.path() / "out", false), Errc::corrupt);
}

}  // namespace
}  // namespace regd::cli
