// Crash points along the upload session paths: start, append, finish, finish with the last
// chunk, cancel (crash_point_util.h runs each path for every N).
#include <gtest/gtest.h>

#include "crash_point_util.h"

namespace regd::testing {
namespace {

const std::string k_chunk1 = "the first chunk of an upload, ";
const std::string k_chunk2 = "then the second and last chunk";
const std::string k_whole = k_chunk1 + k_chunk2;

struct UploadState {
  std::string id;
};

Status append_chunk(Registry& registry, std::string_view id, uint64_t offset, std::string_view data) {
  auto writer = registry.append_upload(k_repo, id, offset);
  if (!writer) {
    return std::unexpected(writer.error());
  }
  if (auto written = (*writer)->write(data); !written) {
    return written;
  }
  if (auto closed = (*writer)->close(); !closed) {
    return std::unexpected(closed.error());
  }
  return {};
}

Status append_and_commit(Registry& registry, std::string_view id, uint64_t offset, std::string_view data) {
  auto writer = registry.append_upload(k_repo, id, offset);
  if (!writer) {
    return std::unexpected(writer.error());
  }
  if (auto written = (*writer)->write(data); !written) {
    return written;
  }
  if (auto committed = (*writer)->commit(digest_of(k_whole)); !committed) {
    return std::unexpected(committed.error());
  }
  return {};
}

// The old state of the paths on an existing session: the base image and a session holding
// `content`.
UploadState session_holding(Registry& registry, std::string_view content) {
  push_base(registry);
  auto started = must(registry.start_upload(k_repo), "start upload");
  must(append_chunk(registry, started.id, 0, content), "append");
  return {started.id};
}

// The session's size as upload_status reports it; nullopt for upload_unknown (any other error
// fails the test).
std::optional<uint64_t> session_size(Registry& registry, std::string_view id) {
  auto status = registry.upload_status(k_repo, id);
  if (!status) {
    EXPECT_EQ(errc_name(status.error().code), errc_name(Errc::upload_unknown)) << status.error().message;
    return std::nullopt;
  }
  EXPECT_EQ(status->id, id);
  return status->size;
}

// Every session the repository shows is well-formed; returns them.
std::vector<UploadEntry> sound_sessions(const std::shared_ptr<Storage>& storage) {
  auto sessions = make_inspector(storage)->list_uploads(k_repo);
  EXPECT_TRUE(sessions.has_value()) << (sessions ? "" : sessions.error().message);
  if (!sessions) {
    return {};
  }
  for (const UploadEntry& session : *sessions) {
    for (const std::string& problem : session.problems) {
      ADD_FAILURE() << "upload " << session.id << ": " << problem;
    }
  }
  return *sessions;
}

// A client whose upload failed: starts over with the whole content.
void upload_afresh(Registry& registry) {
  auto started = registry.start_upload(k_repo);
  ASSERT_OK(started);
  EXPECT_EQ(session_size(registry, started->id), 0u);
  ASSERT_OK(append_chunk(registry, started->id, 0, k_whole));
  ASSERT_OK(registry.finish_upload(k_repo, started->id, digest_of(k_whole)));
}

// The upload is finished: its blob is served, its session gone.
void expect_finished(Registry& registry, const std::shared_ptr<Storage>& storage, const UploadState& state) {
  expect_base(registry);
  expect_blob(registry, k_repo, k_whole);
  EXPECT_EQ(session_size(registry, state.id), std::nullopt);
  for (const UploadEntry& session : sound_sessions(storage)) {
    EXPECT_NE(session.id, state.id);
  }
}

TEST(CrashPoints, StartUpload) {
  CrashScenario<UploadState> scenario;
  scenario.setup = [](Registry& registry, Storage&) {
    push_base(registry);
    return UploadState{};
  };
  scenario.write = [](Registry& registry, const std::shared_ptr<Storage>&, const UploadState&) -> Status {
    auto started = registry.start_upload(k_repo);
    return started ? Status{} : Status(std::unexpected(started.error()));
  };
  scenario.check_readers = [](Registry& registry, const std::shared_ptr<Storage>& storage, const UploadState&,
                              bool completed) {
    expect_base(registry);
    // A session appears whole (startedat, empty data) or not at all.
    auto sessions = sound_sessions(storage);
    if (completed) {
      EXPECT_EQ(sessions.size(), 1u);
    } else {
      EXPECT_LE(sessions.size(), 1u);
    }
    for (const UploadEntry& session : sessions) {
      EXPECT_EQ(session.size, 0u);
      EXPECT_EQ(session_size(registry, session.id), 0u);
    }
  };
  scenario.repush = [](Registry& registry, const std::shared_ptr<Storage>&, UploadState&) { upload_afresh(registry); };
  scenario.check_new = [](Registry& registry, const std::shared_ptr<Storage>& storage, const UploadState&) {
    expect_base(registry);
    expect_blob(registry, k_repo, k_whole);
    // At most the session the crashed start published, still empty.
    auto sessions = sound_sessions(storage);
    EXPECT_LE(sessions.size(), 1u);
    for (const UploadEntry& session : sessions) {
      EXPECT_EQ(session_size(registry, session.id), 0u);
    }
  };
  run_crash_points(scenario);
}

TEST(CrashPoints, AppendUpload) {
  CrashScenario<UploadState> scenario;
  scenario.setup = [](Registry& registry, Storage&) { return session_holding(registry, k_chunk1); };
  scenario.write = [](Registry& registry, const std::shared_ptr<Storage>&, const UploadState& state) {
    return append_chunk(registry, state.id, k_chunk1.size(), k_chunk2);
  };
  scenario.check_readers = [](Registry& registry, const std::shared_ptr<Storage>& storage, const UploadState& state,
                              bool completed) {
    expect_base(registry);
    // The session stays; a crash mid-chunk may leave part of the chunk (the client resumes from
    // the size reported). repush proves the bytes are a prefix of what was sent.
    auto size = session_size(registry, state.id);
    ASSERT_TRUE(size.has_value()) << "the session vanished";
    EXPECT_GE(*size, k_chunk1.size());
    EXPECT_LE(*size, k_whole.size());
    if (completed) {
      EXPECT_EQ(*size, k_whole.size());
    }
    EXPECT_EQ(sound_sessions(storage).size(), 1u);
    EXPECT_EQ(served_blob(registry, k_repo, k_whole), std::nullopt);
  };
  scenario.repush = [](Registry& registry, const std::shared_ptr<Storage>&, UploadState& state) {
    auto size = session_size(registry, state.id);
    ASSERT_TRUE(size.has_value());
    ASSERT_LE(*size, k_whole.size());
    ASSERT_OK(append_chunk(registry, state.id, *size, std::string_view(k_whole).substr(*size)));
    EXPECT_EQ(session_size(registry, state.id), k_whole.size());
    ASSERT_OK(registry.finish_upload(k_repo, state.id, digest_of(k_whole)));
  };
  scenario.check_new = expect_finished;
  run_crash_points(scenario);
}

TEST(CrashPoints, FinishUpload) {
  CrashScenario<UploadState> scenario;
  scenario.setup = [](Registry& registry, Storage&) { return session_holding(registry, k_whole); };
  scenario.write = [](Registry& registry, const std::shared_ptr<Storage>&, const UploadState& state) -> Status {
    auto done = registry.finish_upload(k_repo, state.id, digest_of(k_whole));
    return done ? Status{} : Status(std::unexpected(done.error()));
  };
  scenario.check_readers = [](Registry& registry, const std::shared_ptr<Storage>&, const UploadState& state,
                              bool completed) {
    expect_base(registry);
    // The session is whole or gone (gone first: a retry then starts over); the blob absent or exact.
    auto size = session_size(registry, state.id);
    if (size) {
      EXPECT_EQ(*size, k_whole.size());
    }
    auto blob = served_blob(registry, k_repo, k_whole);
    if (completed) {
      EXPECT_EQ(size, std::nullopt);
      EXPECT_EQ(blob, k_whole);
    }
  };
  scenario.repush = [](Registry& registry, const std::shared_ptr<Storage>&, UploadState& state) {
    if (session_size(registry, state.id)) {
      ASSERT_OK(registry.finish_upload(k_repo, state.id, digest_of(k_whole)));
    } else {
      upload_afresh(registry);
    }
  };
  scenario.check_new = expect_finished;
  run_crash_points(scenario);
}

TEST(CrashPoints, FinishUploadWithTheLastChunk) {
  CrashScenario<UploadState> scenario;
  scenario.setup = [](Registry& registry, Storage&) { return session_holding(registry, k_chunk1); };
  scenario.write = [](Registry& registry, const std::shared_ptr<Storage>&, const UploadState& state) {
    return append_and_commit(registry, state.id, k_chunk1.size(), k_chunk2);
  };
  scenario.check_readers = [](Registry& registry, const std::shared_ptr<Storage>&, const UploadState& state,
                              bool completed) {
    expect_base(registry);
    auto size = session_size(registry, state.id);
    if (size) {
      EXPECT_GE(*size, k_chunk1.size());
      EXPECT_LE(*size, k_whole.size());
    }
    auto blob = served_blob(registry, k_repo, k_whole);
    if (completed) {
      EXPECT_EQ(size, std::nullopt);
      EXPECT_EQ(blob, k_whole);
    }
  };
  scenario.repush = [](Registry& registry, const std::shared_ptr<Storage>&, UploadState& state) {
    if (auto size = session_size(registry, state.id)) {
      ASSERT_LE(*size, k_whole.size());
      ASSERT_OK(append_and_commit(registry, state.id, *size, std::string_view(k_whole).substr(*size)));
    } else {
      auto started = registry.start_upload(k_repo);
      ASSERT_OK(started);
      ASSERT_OK(append_and_commit(registry, started->id, 0, k_whole));
    }
  };
  scenario.check_new = expect_finished;
  run_crash_points(scenario);
}

TEST(CrashPoints, CancelUpload) {
  CrashScenario<UploadState> scenario;
  scenario.setup = [](Registry& registry, Storage&) { return session_holding(registry, k_chunk1); };
  scenario.write = [](Registry& registry, const std::shared_ptr<Storage>&, const UploadState& state) {
    return registry.cancel_upload(k_repo, state.id);
  };
  scenario.check_readers = [](Registry& registry, const std::shared_ptr<Storage>&, const UploadState& state,
                              bool completed) {
    expect_base(registry);
    // The session is whole or gone.
    auto size = session_size(registry, state.id);
    if (size) {
      EXPECT_FALSE(completed);
      EXPECT_EQ(*size, k_chunk1.size());
    }
  };
  scenario.repush = [](Registry& registry, const std::shared_ptr<Storage>&, UploadState& state) {
    if (session_size(registry, state.id)) {
      ASSERT_OK(registry.cancel_upload(k_repo, state.id));
    } else {
      EXPECT_ERRC(registry.cancel_upload(k_repo, state.id), Errc::upload_unknown);
    }
  };
  scenario.check_new = [](Registry& registry, const std::shared_ptr<Storage>& storage, const UploadState& state) {
    expect_base(registry);
    EXPECT_EQ(session_size(registry, state.id), std::nullopt);
    // Nothing of the session is left, not even a directory without startedat.
    EXPECT_TRUE(sound_sessions(storage).empty());
  };
  run_crash_points(scenario);
}

}  // namespace
}  // namespace regd::testing
