// Syncer and sync_under_lease (regd/sync.h): a rule's ends, its tags, the copy, and the lease
// a periodic run holds.
#include "gc_lease.h"
#include "regd/sync.h"

namespace regd::sync {

namespace {

// The repository a copy may mount from: the source, when both ends are on the same registry.
std::vector<std::string> mount_source(const SyncRule& rule) {
  auto source = remote::RemoteRef::parse(rule.source);
  auto target = remote::RemoteRef::parse(rule.target);
  if (remote::is_docker_ref(rule.source) && remote::is_docker_ref(rule.target) && source && target &&
      source->host == target->host) {
    return {source->repository};
  }
  return {};
}

// Renews the lease as the copy advances: a copy that outlasts the lease would let a GC sweep
// blobs this run relies on. The first failure is kept and ends the run after the rule.
class LeaseKeeper final : public CopyProgress {
 public:
  explicit LeaseKeeper(GcLease& lease) : m_lease(lease) {}
  void add_item() override { renew(); }
  Status renew() {
    if (m_status) {
      m_status = m_lease.renew();
    }
    return m_status;
  }

 private:
  GcLease& m_lease;
  Status m_status;
};

}  // namespace

Result<std::unique_ptr<ImageEnd>> Syncer::open(const std::string& text) {
  if (!remote::is_docker_ref(text)) {
    if (m_registry == nullptr) {
      return fail(Errc::invalid_argument, text + ": no storage tree to sync with");
    }
    return local_end(*m_registry, text);
  }
  auto ref = remote::RemoteRef::parse(text);
  if (!ref) {
    return std::unexpected(ref.error());
  }
  auto& client = m_clients[ref->host];
  if (!client) {
    auto made = remote::make_client(ref->host, m_client);
    if (!made) {
      return std::unexpected(made.error());
    }
    client = std::move(*made);
  }
  return remote_end(*client, ref->repository);
}

uint64_t Syncer::requests() const {
  uint64_t n = 0;
  for (const auto& [host, client] : m_clients) {
    n += client->stats().requests;
  }
  return n;
}

Result<RuleReport> Syncer::run(const SyncRule& rule, CopyProgress& progress) {
  auto from = open(rule.source);
  if (!from) {
    return std::unexpected(from.error());
  }
  auto to = open(rule.target);
  if (!to) {
    return std::unexpected(to.error());
  }
  auto all = (*from)->list_tags();
  if (!all) {
    return fail(all.error().code, rule.source + ": " + all.error().message);
  }
  auto tags = select_tags(rule, std::move(*all));
  progress.expect(tags.size(), 0);
  ImageCopier copier(**from, **to, RemoteCopyOptions{rule.referrers, mount_source(rule)}, progress);
  RuleReport report{rule.source, rule.target, {}, {}};
  for (const auto& tag : tags) {
    auto top = copier.copy(tag, tag);
    if (!top) {
      return fail(top.error().code, rule.source + ":" + tag + " -> " + rule.target + ": " + top.error().message);
    }
    report.tags.push_back(SyncedTag{tag, *top});
  }
  report.stats = copier.stats();
  return report;
}

Result<SyncRunReport> sync_under_lease(Storage& storage, Syncer& syncer, const std::vector<SyncRule>& rules,
                                       const LeasedSyncOptions& options) {
  auto lease = GcLease::acquire(storage, options.holder.empty() ? "sync" : options.holder, options.lease_ttl);
  if (!lease) {
    return std::unexpected(lease.error());
  }
  if (options.on_leased) {
    options.on_leased();
  }
  LeaseKeeper keeper(**lease);
  SyncRunReport report;
  for (const SyncRule& rule : rules) {
    if (auto renewed = keeper.renew(); !renewed) {
      return std::unexpected(renewed.error());
    }
    report.push_back(syncer.run(rule, keeper));
    if (options.on_rule) {
      options.on_rule(report.back());
    }
  }
  if (auto renewed = keeper.renew(); !renewed) {
    return std::unexpected(renewed.error());
  }
  return report;
}

}  // namespace regd::sync
