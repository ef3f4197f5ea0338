#include "cli.hpp"

int main(int argc, char** argv) {
  cube::cli::Tool tool("cube-versions", "Component versions: release manifest, node collection, cluster matrix");
  return tool.run(argc, argv);
}
