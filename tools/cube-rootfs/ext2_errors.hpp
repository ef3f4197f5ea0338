// cube::rootfs libext2fs error reporting. com_err knows the ext2 error table only once it is
// registered (without it a corrupt image reads "Unknown code ext2 146"), and libext2fs prints some
// complaints itself through com_err, straight to stderr, in the middle of our output.
#pragma once

#include <ext2fs/ext2fs.h>

#include <string>

namespace cube::rootfs {

// Registers the table and sends libext2fs's own complaints to the debug log (-vv); idempotent.
// Call before the first libext2fs call.
void init_ext2_errors();
std::string ext2_error_text(errcode_t err);

}  // namespace cube::rootfs
