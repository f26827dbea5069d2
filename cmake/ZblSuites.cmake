# zbl_add_suites(<target> [TIMEOUT <sec>])
# Registers the conformance suites binary with ctest, one ctest test per GoogleTest case, each
# labelled `suite`, its lowercased suite name (zbl/Append.X/cfg -> append) and its
# configuration's driver labels (emulated, raw, file, null_blk, host_device, ...), so that
# `ctest -L append` or `ctest -L null_blk` select them. The driver labels come from the binary
# itself (--zbl-config-labels), written after each build; the labels are computed at ctest time
# from each discovered test's name.
function(zbl_add_suites target)
  cmake_parse_arguments(ARG "" "TIMEOUT" "" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  set(config_labels ${CMAKE_CURRENT_BINARY_DIR}/${target}_config_labels.cmake)
  add_custom_command(TARGET ${target} POST_BUILD
    COMMAND $<TARGET_FILE:${target}> --zbl-config-labels=${config_labels}
    VERBATIM)
  gtest_discover_tests(${target}
    TEST_LIST ${target}_TESTS
    NO_PRETTY_VALUES
    DISCOVERY_TIMEOUT 120
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} ENVIRONMENT "ZBL_NO_RESULTS=1")
  set(script ${CMAKE_CURRENT_BINARY_DIR}/${target}_labels.cmake)
  file(WRITE ${script} "
if(EXISTS \"${config_labels}\")
  include(\"${config_labels}\")
endif()
foreach(t IN LISTS ${target}_TESTS)
  set(labels suite)
  if(t MATCHES \"^zbl/([A-Za-z0-9_]+)\\\\.[^/]+/([A-Za-z0-9_]+)$\")
    string(TOLOWER \"\${CMAKE_MATCH_1}\" s)
    set(cfg \"\${CMAKE_MATCH_2}\")
    list(APPEND labels \${s} \${zbl_config_labels_\${cfg}})
  elseif(t MATCHES \"^([A-Za-z0-9_]+)\\\\.\")
    string(TOLOWER \"\${CMAKE_MATCH_1}\" s)
    list(APPEND labels \${s} unit)
  endif()
  set_tests_properties(\"\${t}\" PROPERTIES LABELS \"\${labels}\")
endforeach()
")
  set_property(DIRECTORY APPEND PROPERTY TEST_INCLUDE_FILES ${script})
endfunction()
