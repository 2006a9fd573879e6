// SPDX-License-Identifier: MIT
// The flow_top plugin library loaded in-process through the host's loader,
// as netmon-host loads it.
#pragma once

#include <netmon/plugin_abi.h>

#include <memory>
#include <string>
#include <vector>

#include "loader.hpp"

namespace netmon::flow_top::test {

inline std::unique_ptr<netmon::host::PluginInstance> flow_top_plugin() {
  return std::make_unique<netmon::host::PluginInstance>(
      netmon::host::load_plugin_library(std::string(NETMON_TEST_PLUGIN_DIR) + "/libnetmon_flow_top.so"));
}

}  // namespace netmon::flow_top::test
