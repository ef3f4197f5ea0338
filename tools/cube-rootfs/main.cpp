#include "commands.hpp"
#include "template_commands.hpp"

#include "cli.hpp"

int main(int argc, char** argv) {
  cube::cli::Tool tool("cube-rootfs", "Container image to ext4 rootfs: templates, jobs, distribution");
  cube::rootfs::ConvertArgs conv;
  auto* c = tool.verb("convert", "Write the ext4 rootfs of an image to a file (no template, no state)",
                      [&] { cube::rootfs::run_convert(tool, conv); });
  c->add_option("IMAGE", conv.image, "oci:DIR[:TAG], a docker-archive or rootfs tar file, or - (stdin)")
      ->required()
      ->type_name("IMAGE");
  c->add_option("--out", conv.out, "The .ext4 file to create")->required()->type_name("FILE");
  c->add_option("--files", conv.files, "Write per-file fingerprints (JSON Lines) here")->type_name("FILE");
  c->add_flag("--hash-image", conv.hash_image, "Also compute the image file's SHA-256");
  cube::rootfs::add_image_flags(c, conv.image_flags);

  cube::rootfs::InspectArgs insp;
  auto* i = tool.verb("inspect", "List every entry of an ext4 image, read without mounting it",
                      [&] { cube::rootfs::run_inspect(tool, insp); });
  i->add_option("FILE", insp.file, "The ext4 image")->required()->type_name("FILE");
  i->add_flag("--content", insp.content, "Hash each regular file's content (SHA-256)");

  cube::rootfs::BuildArgs build;
  cube::rootfs::add_build_verb(tool, build);
  cube::rootfs::RedoArgs redo;
  cube::rootfs::DistributeArgs dist;
  cube::rootfs::TemplateRef show, del;
  cube::rootfs::GcArgs gc;
  cube::rootfs::ConfigArgs cfg;
  cube::rootfs::add_template_verbs(tool, redo, dist, show, del, gc, cfg);
  return tool.run(argc, argv);
}
