// cube::nft — nftables through libnftables, in-process. Each tool owns one table (`inet cube_tap`,
// `inet cube_egress`) and changes it only with whole, atomic transactions in nft syntax (libnftables
// 1.0.6 has no JSON-input switch; its JSON output is used for reading).
//
// Contract: run() hands the text to libnftables as one batch, which the kernel commits or rejects
// whole; an error throws Error(failed) with nft's own message. Works in the calling thread's
// network namespace. The first Context opens libnftables.so.1 (dlopen: the tools do not link it, so
// their other commands start without it); when it cannot, the constructor throws Error(failed)
// naming the library and the Debian package.
#pragma once

#include <memory>
#include <string>
#include <string_view>

struct nft_ctx;

namespace cube::nft {

class Context {
 public:
  Context();
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  // Runs the commands as one transaction; returns what nft printed (for list commands).
  std::string run(std::string_view commands, std::string_view doing);
  // Runs one list command with libnftables' output flags (NFT_CTX_OUTPUT_JSON, _TERSE, …) for this
  // call only, and returns what it printed.
  std::string list(std::string_view command, unsigned output_flags, std::string_view doing);
  // True when `family name` exists (a list that fails for any other reason throws).
  bool table_exists(std::string_view family, std::string_view name);

 private:
  struct Free {
    void operator()(nft_ctx* c) const;
  };
  std::unique_ptr<nft_ctx, Free> m_ctx;
};

// Removes `family name` if it is there, in one transaction that touches nothing else: the create
// makes the delete safe when the table is missing.
std::string delete_table_commands(std::string_view family, std::string_view name);

}  // namespace cube::nft
