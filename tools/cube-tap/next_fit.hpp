// cube::tap next-fit search, shared by the address and the port allocator: the first free slot
// after a cursor, wrapping round once, where "used" comes from an ascending scan (a SQL cursor in
// the tool, a list in the tests) so that nothing loads the whole range.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>

namespace cube::tap {

// Yields used slots ≥ the `from` it was opened with, ascending; nullopt when there are no more.
using UsedScan = std::function<std::optional<uint32_t>()>;
// Opens a scan from `from`.
using OpenScan = std::function<UsedScan(uint32_t from)>;
// Slots that count as used although no scan yields them (reserved ports).
using Skip = std::function<bool(uint32_t)>;

// The first slot of [from, to] that neither the scan nor `skip` marks used.
std::optional<uint32_t> first_free(uint32_t from, uint32_t to, const UsedScan& used, const Skip& skip = {});

// Next-fit over [lo, hi]: the first free slot after `cursor`, else the first from lo up to cursor.
std::optional<uint32_t> next_fit(uint32_t lo, uint32_t hi, uint32_t cursor, const OpenScan& open,
                                 const Skip& skip = {});

}  // namespace cube::tap
