// The two implementations of cluster::Store, chosen by cluster::open() (cluster.cpp).
#pragma once

#include "cluster.hpp"

namespace cube::cluster {

std::unique_ptr<Store> open_sqlite(const std::string& path, Access access);
// `url` is a postgresql:// URL.
std::unique_ptr<Store> open_postgresql(const std::string& url, Access access);

}  // namespace cube::cluster
