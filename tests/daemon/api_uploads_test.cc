// Push paths of the OCI distribution API against a real regd process.
#include "regd_process.h"

namespace regd::testing {
namespace {

using Uploads = RegdTest;

std::string start_upload(httplib::Client& c, const std::string& repo) {
  auto r = c.Post(("/v2/" + repo + "/blobs/uploads/").c_str(), "", "application/octet-stream");
  EXPECT_TRUE(r && r->status == 202);
  if (!r) {
    return "";
  }
  EXPECT_EQ(r->get_header_value("Range"), "0-0");
  EXPECT_FALSE(r->get_header_value("Docker-Upload-UUID").empty());
  auto location = r->get_header_value("Location");
  EXPECT_TRUE(location.starts_with("/v2/" + repo + "/blobs/uploads/")) << location;
  return location;
}

httplib::Headers range_header(size_t first, size_t last) {
  return {{"Content-Range", std::to_string(first) + "-" + std::to_string(last)}};
}

TEST_F(Uploads, MonolithicPostThenPut) {
  auto c = client();
  auto data = random_bytes(300000);
  auto location = start_upload(c, "lib/app");
  auto r = c.Put((location + "?digest=" + sha256_of(data)).c_str(), data, "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->get_header_value("Location"), "/v2/lib/app/blobs/" + sha256_of(data));
  EXPECT_EQ(r->get_header_value("Docker-Content-Digest"), sha256_of(data));
  auto get = c.Get(("/v2/lib/app/blobs/" + sha256_of(data)).c_str());
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, data);
}

TEST_F(Uploads, SinglePostWithDigest) {
  auto c = client();
  auto data = random_bytes(2 * 1024 * 1024 + 17);
  auto digest = push_blob(c, "single", data);
  auto head = c.Head(("/v2/single/blobs/" + digest).c_str());
  ASSERT_TRUE(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_EQ(head->get_header_value("Content-Length"), std::to_string(data.size()));
  EXPECT_EQ(head->get_header_value("Docker-Content-Digest"), digest);
  EXPECT_TRUE(head->body.empty());
  // Pushing it again succeeds without storing anything new.
  push_blob(c, "single", data);
}

TEST_F(Uploads, SinglePostWithWrongDigestIsDigestInvalid) {
  auto c = client();
  auto r = c.Post(("/v2/a/blobs/uploads/?digest=" + sha256_of("other")).c_str(), "content", "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r->body), "DIGEST_INVALID");
  EXPECT_EQ(c.Head(("/v2/a/blobs/" + sha256_of("other")).c_str())->status, 404);
}

TEST_F(Uploads, ChunkedPatchWithContentRange) {
  auto c = client();
  auto data = random_bytes(3000);
  auto location = start_upload(c, "chunked");
  auto r1 = c.Patch(location.c_str(), range_header(0, 999), data.substr(0, 1000), "application/octet-stream");
  ASSERT_TRUE(r1);
  EXPECT_EQ(r1->status, 202);
  EXPECT_EQ(r1->get_header_value("Range"), "0-999");
  location = r1->get_header_value("Location");
  auto r2 = c.Patch(location.c_str(), range_header(1000, 2999), data.substr(1000), "application/octet-stream");
  ASSERT_TRUE(r2);
  EXPECT_EQ(r2->status, 202);
  EXPECT_EQ(r2->get_header_value("Range"), "0-2999");
  auto status = c.Get(location.c_str());
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 204);
  EXPECT_EQ(status->get_header_value("Range"), "0-2999");
  auto done = c.Put((location + "?digest=" + sha256_of(data)).c_str(), "", "application/octet-stream");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 201);
  EXPECT_EQ(c.Get(("/v2/chunked/blobs/" + sha256_of(data)).c_str())->body, data);
}

TEST_F(Uploads, OutOfOrderChunkIs416WithTheCurrentRange) {
  auto c = client();
  auto data = random_bytes(2000);
  auto location = start_upload(c, "ooo");
  ASSERT_EQ(c.Patch(location.c_str(), range_header(0, 999), data.substr(0, 1000), "application/octet-stream")->status,
            202);
  auto bad = c.Patch(location.c_str(), range_header(1500, 1999), data.substr(1500), "application/octet-stream");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 416);
  EXPECT_EQ(bad->get_header_value("Range"), "0-999");
  EXPECT_EQ(bad->get_header_value("Location"), location);
  EXPECT_EQ(error_code(bad->body), "RANGE_INVALID");
  // The session is intact: the right chunk still completes it.
  auto last = c.Put((location + "?digest=" + sha256_of(data)).c_str(), range_header(1000, 1999), data.substr(1000),
                    "application/octet-stream");
  ASSERT_TRUE(last);
  EXPECT_EQ(last->status, 201);
}

TEST_F(Uploads, MalformedContentRangeIs416) {
  auto c = client();
  auto location = start_upload(c, "badrange");
  auto r = c.Patch(location.c_str(), {{"Content-Range", "nonsense"}}, "abc", "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 416);
  auto mismatch = c.Patch(location.c_str(), range_header(0, 9), "abc", "application/octet-stream");
  ASSERT_TRUE(mismatch);
  EXPECT_EQ(mismatch->status, 416);
}

TEST_F(Uploads, StreamedPatchWithoutContentRange) {
  auto c = client();
  auto data = random_bytes(1536 * 1024, 7);
  auto location = start_upload(c, "streamed");
  size_t offset = 0;
  httplib::Result r = c.Patch(
      location.c_str(), data.size(),
      [&](size_t, size_t, httplib::DataSink& sink) {
        size_t n = std::min<size_t>(64 * 1024, data.size() - offset);
        sink.write(data.data() + offset, n);
        offset += n;
        return true;
      },
      "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(r->get_header_value("Range"), "0-" + std::to_string(data.size() - 1));
  auto done =
      c.Put((r->get_header_value("Location") + "?digest=" + sha256_of(data)).c_str(), "", "application/octet-stream");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 201);
}

TEST_F(Uploads, ChunkedTransferEncodingBodyIsAccepted) {
  auto c = client();
  auto data = random_bytes(100000, 3);
  auto location = start_upload(c, "te");
  size_t offset = 0;
  auto r = c.Patch(
      location.c_str(),
      [&](size_t, httplib::DataSink& sink) {
        size_t n = std::min<size_t>(30000, data.size() - offset);
        sink.write(data.data() + offset, n);
        offset += n;
        if (offset == data.size()) {
          sink.done();
        }
        return true;
      },
      "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 202);
  EXPECT_EQ(r->get_header_value("Range"), "0-99999");
}

TEST_F(Uploads, CancelDeletesTheSession) {
  auto c = client();
  auto location = start_upload(c, "cancel");
  auto del = c.Delete(location.c_str());
  ASSERT_TRUE(del);
  EXPECT_EQ(del->status, 204);
  auto status = c.Get(location.c_str());
  ASSERT_TRUE(status);
  EXPECT_EQ(status->status, 404);
  EXPECT_EQ(error_code(status->body), "BLOB_UPLOAD_UNKNOWN");
}

TEST_F(Uploads, UnknownOrMalformedSessionIsUploadUnknown) {
  auto c = client();
  for (const char* id : {"00000000-0000-0000-0000-000000000000", "..", "a.b", "%2e%2e"}) {
    auto r = c.Get((std::string("/v2/x/blobs/uploads/") + id).c_str());
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 404) << id;
    EXPECT_EQ(error_code(r->body), "BLOB_UPLOAD_UNKNOWN") << id;
  }
}

TEST_F(Uploads, FinishWithoutDigestIsDigestInvalid) {
  auto c = client();
  auto location = start_upload(c, "nodigest");
  auto r = c.Put(location.c_str(), "", "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r->body), "DIGEST_INVALID");
}

TEST_F(Uploads, MountFromAnotherRepository) {
  auto c = client();
  auto data = random_bytes(5000);
  auto digest = push_blob(c, "source", data);
  auto r = c.Post(("/v2/target/blobs/uploads/?mount=" + digest + "&from=source").c_str(), "", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->get_header_value("Location"), "/v2/target/blobs/" + digest);
  EXPECT_EQ(r->get_header_value("Docker-Content-Digest"), digest);
  EXPECT_EQ(c.Get(("/v2/target/blobs/" + digest).c_str())->body, data);
}

TEST_F(Uploads, MountWithoutFrom) {
  auto c = client();
  auto digest = push_blob(c, "source", random_bytes(100));
  auto r = c.Post(("/v2/other/blobs/uploads/?mount=" + digest).c_str(), "", "");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201);
}

TEST_F(Uploads, FailedMountFallsBackToAnUpload) {
  auto c = client();
  auto digest = push_blob(c, "source", random_bytes(100));
  for (std::string query : {"?mount=" + sha256_of("missing") + "&from=source", "?mount=" + digest + "&from=nowhere",
                            std::string("?mount=sha256:bad&from=source")}) {
    auto r = c.Post(("/v2/target/blobs/uploads/" + query).c_str(), "", "");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 202) << query;
    EXPECT_FALSE(r->get_header_value("Location").empty());
  }
}

TEST_F(Uploads, Sha512Blob) {
  auto c = client();
  auto data = random_bytes(4000, 9);
  auto digest = digest_of(data, DigestAlgorithm::sha512).str();
  auto r = c.Post(("/v2/five12/blobs/uploads/?digest=" + digest).c_str(), data, "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 201) << r->body;
  auto get = c.Get(("/v2/five12/blobs/" + digest).c_str());
  ASSERT_TRUE(get);
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->body, data);
  EXPECT_EQ(get->get_header_value("Docker-Content-Digest"), digest);
  // Chunked too.
  auto location = start_upload(c, "five12");
  auto done = c.Put((location + "?digest=" + digest).c_str(), data, "application/octet-stream");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 201) << done->body;
}

TEST_F(Uploads, FinishWithMismatchedDigestKeepsTheSession) {
  auto c = client();
  auto location = start_upload(c, "mismatch");
  ASSERT_EQ(c.Patch(location.c_str(), "abc", "application/octet-stream")->status, 202);
  auto r = c.Put((location + "?digest=" + sha256_of("xyz")).c_str(), "", "application/octet-stream");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(error_code(r->body), "DIGEST_INVALID");
  auto ok = c.Put((location + "?digest=" + sha256_of("abc")).c_str(), "", "application/octet-stream");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 201);
}

// Status of an upload session as its Range header ("0-<size-1>", "0-0" when empty), or "".
std::string session_range(httplib::Client& c, const std::string& location) {
  auto r = c.Get(location.c_str());
  return r && r->status == 204 ? r->get_header_value("Range") : "";
}

// A PATCH whose chunked (Transfer-Encoding) body carries `body` under `content_range`: the
// length is then only known once the body has arrived.
std::string raw_chunked_patch(int port, const std::string& location, const std::string& content_range,
                              const std::string& body) {
  RawConnection conn(port);
  EXPECT_TRUE(conn.connected());
  std::ostringstream req;
  req << "PATCH " << location << " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
      << "Content-Range: " << content_range << "\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
      << std::hex << body.size() << "\r\n"
      << body << "\r\n0\r\n\r\n";
  conn.send(req.str());
  return conn.read_all();
}

TEST_F(Uploads, PutWithWrongDigestAndAChunkKeepsNothingSoTheRetryAppendsOnce) {
  auto c = client();
  auto data = random_bytes(6000, 11);
  auto location = start_upload(c, "retry");
  ASSERT_EQ(c.Patch(location.c_str(), range_header(0, 3999), data.substr(0, 4000), "application/octet-stream")->status,
            202);
  auto wrong = c.Put((location + "?digest=" + sha256_of("not it")).c_str(), range_header(4000, 5999), data.substr(4000),
                     "application/octet-stream");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 400);
  EXPECT_EQ(error_code(wrong->body), "DIGEST_INVALID");
  EXPECT_EQ(session_range(c, location), "0-3999");  // the last chunk was cut off again
  auto right = c.Put((location + "?digest=" + sha256_of(data)).c_str(), range_header(4000, 5999), data.substr(4000),
                     "application/octet-stream");
  ASSERT_TRUE(right);
  EXPECT_EQ(right->status, 201) << right->body;
  auto blob = c.Get(("/v2/retry/blobs/" + sha256_of(data)).c_str());
  ASSERT_TRUE(blob);
  EXPECT_EQ(blob->status, 200);
  EXPECT_TRUE(blob->body == data) << "got " << blob->body.size() << " bytes, want " << data.size();
}

TEST_F(Uploads, ChunkShorterOrLongerThanItsContentRangeIs416AndIsNotKept) {
  auto c = client();
  auto data = random_bytes(3000, 12);
  auto location = start_upload(c, "lying");
  ASSERT_EQ(c.Patch(location.c_str(), range_header(0, 999), data.substr(0, 1000), "application/octet-stream")->status,
            202);
  // The end claims 2000 bytes, 500 arrive; then 500 claimed and 2000 sent.
  for (const auto& [claimed, sent] :
       {std::pair{"1000-2999", data.substr(1000, 500)}, std::pair{"1000-1499", data.substr(1000, 2000)}}) {
    auto response = raw_chunked_patch(regd().port(), location, claimed, sent);
    EXPECT_TRUE(response.starts_with("HTTP/1.1 416")) << claimed << ": " << response.substr(0, 200);
    EXPECT_NE(response.find("\"RANGE_INVALID\""), std::string::npos) << response;
    EXPECT_NE(response.find("Range: 0-999\r\n"), std::string::npos) << response;
    EXPECT_EQ(session_range(c, location), "0-999") << claimed;
  }
  auto ok = raw_chunked_patch(regd().port(), location, "1000-2999", data.substr(1000));
  EXPECT_TRUE(ok.starts_with("HTTP/1.1 202")) << ok.substr(0, 200);
  auto done = c.Put((location + "?digest=" + sha256_of(data)).c_str(), "", "application/octet-stream");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 201) << done->body;
  EXPECT_TRUE(c.Get(("/v2/lying/blobs/" + sha256_of(data)).c_str())->body == data);
}

TEST_F(Uploads, ChunkCutShortByTheClientIsNotKept) {
  auto c = client();
  auto data = random_bytes(3000, 13);
  auto location = start_upload(c, "cut");
  ASSERT_EQ(c.Patch(location.c_str(), range_header(0, 999), data.substr(0, 1000), "application/octet-stream")->status,
            202);
  {
    RawConnection conn(regd().port());
    ASSERT_TRUE(conn.connected());
    conn.send("PATCH " + location +
              " HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\n"
              "Content-Range: 1000-2999\r\nContent-Length: 2000\r\n\r\n" +
              data.substr(1000, 700));
    std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let regd append what came
  }                                                               // closed after 700 of 2000 bytes
  // regd notices the close, cuts the chunk off and releases the session (bounded wait).
  std::string range;
  for (int i = 0; i < 100 && range != "0-999"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    range = session_range(c, location);
  }
  EXPECT_EQ(range, "0-999");
  int next = 0;
  for (int i = 0; i < 100; ++i) {  // 416 while the dead request still holds the session lock
    auto r = c.Patch(location.c_str(), range_header(1000, 2999), data.substr(1000), "application/octet-stream");
    next = r ? r->status : -1;
    if (next != 416) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(next, 202);
  auto done = c.Put((location + "?digest=" + sha256_of(data)).c_str(), "", "application/octet-stream");
  ASSERT_TRUE(done);
  EXPECT_EQ(done->status, 201) << done->body;
  EXPECT_TRUE(c.Get(("/v2/cut/blobs/" + sha256_of(data)).c_str())->body == data);
}

}  // namespace
}  // namespace regd::testing
