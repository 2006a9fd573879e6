# netmon_add_plugin(<name> SOURCES <files...> [LIBRARIES <targets...>]
#                   [OUTPUT_DIRECTORY <dir>] [NO_INSTALL] [NOT_DEFAULT]
#                   [DEFAULT_ORDER <n>])
# netmon_add_sink(<name> ...same...)
#
# Declares a plugin or sink: a shared library libnetmon_<name>.so with hidden
# visibility (only the descriptor is exported), linked to the header-only SDK,
# written to the plugin directory of the build tree and installed to
# <prefix>/<libdir>/netmon/plugins (lib/netmon/plugins, or the multiarch
# lib/<triplet>/netmon/plugins under /usr on Debian).
#
# In netmon's own tree a plugin written to the plugin directory is one of
# the plugins netmon-host loads when --plugins is not given, unless it says
# NOT_DEFAULT; they are started in DEFAULT_ORDER (0-99, default 50), then by
# name.
#
# Outside netmon's own tree the library goes to ${CMAKE_BINARY_DIR}/plugins
# (run netmon-host --plugin-dir there) and installs to
# <your prefix>/<netmon's libdir>/netmon/plugins.
include_guard(GLOBAL)

function(_netmon_add_library kind name)
  # netmon_exports.map lies beside this file, in the tree and once installed.
  set(exports "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/netmon_exports.map")
  cmake_parse_arguments(ARG "NO_INSTALL;NOT_DEFAULT" "OUTPUT_DIRECTORY;DEFAULT_ORDER" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_OUTPUT_DIRECTORY)
    if(DEFINED NETMON_PLUGIN_OUTPUT_DIR AND kind STREQUAL "plugin" AND NOT ARG_NOT_DEFAULT)
      if(NOT DEFINED ARG_DEFAULT_ORDER)
        set(ARG_DEFAULT_ORDER 50)
      endif()
      if(NOT ARG_DEFAULT_ORDER MATCHES "^[0-9][0-9]?$")
        message(FATAL_ERROR "netmon_add_plugin(${name}): DEFAULT_ORDER must be 0 to 99, not '${ARG_DEFAULT_ORDER}'")
      endif()
      # "07:name": sorted as text, the order first.
      string(LENGTH "${ARG_DEFAULT_ORDER}" digits)
      if(digits EQUAL 1)
        set(ARG_DEFAULT_ORDER "0${ARG_DEFAULT_ORDER}")
      endif()
      set_property(GLOBAL APPEND PROPERTY NETMON_DEFAULT_PLUGINS "${ARG_DEFAULT_ORDER}:${name}")
    endif()
    if(DEFINED NETMON_PLUGIN_OUTPUT_DIR)
      set(ARG_OUTPUT_DIRECTORY "${NETMON_PLUGIN_OUTPUT_DIR}")
    else()
      set(ARG_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/plugins")
    endif()
  endif()
  set(reldir "lib/netmon/plugins")
  if(DEFINED NETMON_PLUGIN_RELDIR)
    set(reldir "${NETMON_PLUGIN_RELDIR}")
  endif()
  set(target netmon_${kind}_${name})
  add_library(${target} MODULE ${ARG_SOURCES})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME netmon_${name}
    PREFIX lib
    C_VISIBILITY_PRESET hidden
    CXX_VISIBILITY_PRESET hidden
    VISIBILITY_INLINES_HIDDEN ON
    LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  target_link_libraries(${target} PRIVATE netmon::sdk ${ARG_LIBRARIES})
  # Fail at link time, not at load time, on an undefined symbol.
  # Export the descriptor only, also hiding template instantiations from
  # system headers that visibility alone does not catch.
  target_link_options(${target} PRIVATE -Wl,--no-undefined
    "-Wl,--version-script=${exports}")
  set_property(TARGET ${target} APPEND PROPERTY LINK_DEPENDS "${exports}")
  if(NOT ARG_NO_INSTALL)
    install(TARGETS ${target} LIBRARY DESTINATION ${reldir})
  endif()
  # In netmon's own tree, every library of its plugin directory, as
  # KIND:NAME and as a target: the tests check each one.
  if(DEFINED NETMON_PLUGIN_OUTPUT_DIR AND ARG_OUTPUT_DIRECTORY STREQUAL NETMON_PLUGIN_OUTPUT_DIR)
    set_property(GLOBAL APPEND PROPERTY NETMON_LIBRARIES "${kind}:${name}")
    set_property(GLOBAL APPEND PROPERTY NETMON_LIBRARY_TARGETS ${target})
  endif()
endfunction()

function(netmon_add_plugin name)
  _netmon_add_library(plugin ${name} ${ARGN})
endfunction()

function(netmon_add_sink name)
  _netmon_add_library(sink ${name} ${ARGN})
endfunction()
