# netmon_add_plugin(<name> SOURCES <files...> [LIBRARIES <targets...>]
#                   [OUTPUT_DIRECTORY <dir>] [NO_INSTALL])
# netmon_add_sink(<name> ...same...)
#
# Declares a plugin or sink: a shared library libnetmon_<name>.so with hidden
# visibility (only the descriptor is exported), linked to the header-only SDK,
# written to the plugin directory of the build tree and installed to
# <prefix>/lib/netmon/plugins.
#
# Outside netmon's own tree the library goes to ${CMAKE_BINARY_DIR}/plugins
# (run netmon-host --plugin-dir there) and installs to
# <your prefix>/lib/netmon/plugins.
include_guard(GLOBAL)

function(_netmon_add_library kind name)
  # netmon_exports.map lies beside this file, in the tree and once installed.
  set(exports "${CMAKE_CURRENT_FUNCTION_LIST_DIR}/netmon_exports.map")
  cmake_parse_arguments(ARG "NO_INSTALL" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_OUTPUT_DIRECTORY)
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
