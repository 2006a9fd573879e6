# Helpers of netmon's own tree (not installed with the SDK).
include_guard(GLOBAL)

# Test-only plugin libraries (tests/unit/fixtures) go here, never to the real
# plugin directory, so netmon-host --list-plugins never sees them.
set(NETMON_FIXTURE_PLUGIN_DIR "${PROJECT_BINARY_DIR}/tests/unit/fixtures/plugins")

# netmon_add_subdirectories(): adds every folder of the current source
# directory that has a CMakeLists.txt, in name order. plugins/ and sinks/
# use it, so that a new plugin or sink is a new folder and nothing else.
function(netmon_add_subdirectories)
  file(GLOB children LIST_DIRECTORIES true CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*")
  list(SORT children)
  foreach(child IN LISTS children)
    if(IS_DIRECTORY "${child}" AND EXISTS "${child}/CMakeLists.txt")
      add_subdirectory("${child}")
    endif()
  endforeach()
endfunction()

# netmon_write_default_plugins(): the plugins netmon-host loads when
# --plugins is not given are the in-tree plugins (netmon_add_plugin without
# NOT_DEFAULT, by DEFAULT_ORDER then name), written as data for the host:
# <build>/generated/netmon_default_plugins.h.
function(netmon_write_default_plugins)
  get_property(entries GLOBAL PROPERTY NETMON_DEFAULT_PLUGINS)
  if(NOT entries)
    message(FATAL_ERROR "no plugin in plugins/: netmon-host needs at least one")
  endif()
  list(SORT entries)
  set(plugins "")
  foreach(entry IN LISTS entries)
    string(REGEX REPLACE "^[0-9]+:" "" name "${entry}")
    list(APPEND plugins "${name}")
  endforeach()
  list(JOIN plugins "," NETMON_DEFAULT_PLUGINS_TEXT)
  configure_file("${PROJECT_SOURCE_DIR}/cmake/netmon_default_plugins.h.in"
    "${PROJECT_BINARY_DIR}/generated/netmon_default_plugins.h" @ONLY)
  message(STATUS "netmon: default plugins ${NETMON_DEFAULT_PLUGINS_TEXT}")
endfunction()
