#include "distribution.hpp"

#include "error.hpp"
#include "fs.hpp"
#include "part_file.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

extern char** environ;

namespace cube::rootfs {
namespace {

// Through a buffer, leaving all-zero blocks as holes (the file is already sized), for when
// SEEK_DATA is not supported (it then reports the whole file as data) or copy_file_range refuses.
void copy_buffered(int in, int out, off_t from, off_t to, const std::string& src, const std::string& dest) {
  constexpr size_t k_chunk = 1 << 20;
  static const std::vector<char> zeros(k_chunk, 0);
  std::vector<char> buf(k_chunk);
  while (from < to) {
    ssize_t n = ::pread(in, buf.data(), std::min<size_t>(k_chunk, static_cast<size_t>(to - from)), from);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) throw sys_error(n < 0 ? errno : EIO, "reading " + src);
    if (std::memcmp(buf.data(), zeros.data(), static_cast<size_t>(n)) != 0) {
      for (ssize_t done = 0; done < n;) {
        ssize_t w = ::pwrite(out, buf.data() + done, static_cast<size_t>(n - done), from + done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) throw sys_error(errno, "writing " + dest);
        done += w;
      }
    }
    from += n;
  }
}

void copy_range(int in, int out, off_t from, off_t to, const std::string& src, const std::string& dest) {
  while (from < to) {
    loff_t off_in = from, off_out = from;
    ssize_t n = ::copy_file_range(in, &off_in, out, &off_out, static_cast<size_t>(to - from), 0);
    if (n < 0 && errno == EINTR) continue;
    // Refused between these two file systems (EXDEV across types since Linux 5.19; FUSE and some
    // network file systems say EOPNOTSUPP or EINVAL): copy the bytes ourselves.
    if (n < 0 && (errno == EXDEV || errno == EOPNOTSUPP || errno == ENOSYS || errno == EINVAL))
      return copy_buffered(in, out, from, to, src, dest);
    if (n <= 0) throw sys_error(n < 0 ? errno : EIO, "copying " + src);
    from += n;
  }
}

void copy_one(const std::string& src_dir, const std::string& id, const Target& t) {
  std::string dest = t.dir + "/" + id;
  fs::make_dirs(dest, 0755);
  for (const char* suffix : {".files.jsonl", "/manifest.json", ".ext4"}) {
    std::string name = suffix[0] == '/' ? std::string(suffix + 1) : id + suffix;
    copy_sparse(src_dir + "/" + name, dest + "/" + name);
  }
}

void run_via(const std::string& via, const std::string& src_dir, const Target& t) {
  std::vector<std::string> args = {"/bin/sh", "-c", via, "cube-rootfs-copy", src_dir, t.node, t.dir, t.address};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, "/bin/sh", nullptr, nullptr, argv.data(), environ);
  if (rc != 0) throw sys_error(rc, "starting the --via command");
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  throw Error(Exit::failed, WIFEXITED(status) ? fmt::format("the --via command exited {}", WEXITSTATUS(status))
                                              : fmt::format("the --via command died of signal {}", WTERMSIG(status)));
}

}  // namespace

void copy_sparse(const std::string& src, const std::string& dest) {
  Fd in(::open(src.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) throw sys_error(errno, "opening " + src);
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) throw sys_error(errno, "reading " + src);
  fs::PartFile out(dest);  // removed on any error, and one copier per destination
  const std::string& part = out.path();
  if (::ftruncate(out.fd(), st.st_size) != 0) throw sys_error(errno, "sizing " + part);
  off_t pos = 0;
  while (pos < st.st_size) {
    off_t data = ::lseek(in.get(), pos, SEEK_DATA);
    if (data < 0) break;  // only a hole is left
    off_t hole = ::lseek(in.get(), data, SEEK_HOLE);
    if (hole < 0) hole = st.st_size;
    copy_range(in.get(), out.fd(), data, hole, src, part);
    pos = hole;
  }
  if (::fsync(out.fd()) != 0) throw sys_error(errno, "flushing " + part);
  out.commit();
}

void distribute_artifact(const std::string& artifact_dir, const std::string& artifact_id,
                         const std::vector<Target>& targets, const std::string& via,
                         const std::function<void(const CopyResult&)>& on_result) {
  std::mutex mu;
  std::condition_variable cv;
  std::deque<CopyResult> done;
  std::atomic<size_t> next{0};
  auto worker = [&] {
    for (size_t i; (i = next++) < targets.size();) {
      CopyResult r{targets[i], false, {}};
      try {
        // This node's store is where the artifact was built: nothing to copy.
        if (!targets[i].local)
          via.empty() ? copy_one(artifact_dir, artifact_id, targets[i]) : run_via(via, artifact_dir, targets[i]);
        r.ok = true;
      } catch (const Error& e) {
        r.error = e.message();
      }
      std::lock_guard lock(mu);
      done.push_back(std::move(r));
      cv.notify_one();
    }
  };
  std::vector<std::jthread> pool;
  for (int w = 0; w < std::min<int>(k_distribution_workers, static_cast<int>(targets.size())); ++w)
    pool.emplace_back(worker);
  for (size_t reported = 0; reported < targets.size(); ++reported) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !done.empty(); });
    CopyResult r = std::move(done.front());
    done.pop_front();
    lock.unlock();
    on_result(r);
  }
}

}  // namespace cube::rootfs
