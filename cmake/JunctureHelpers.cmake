# Helpers shared by the test folders.
include_guard(GLOBAL)

# juncture_add_test(NAME SOURCES... [LIBS libs...] [RESOURCE_LOCK name] [TEST_PREFIX p]
#                   [LABEL l])
# Builds one GoogleTest executable and registers its tests with ctest. Tests that
# share a RESOURCE_LOCK never run at the same time (ctest -j). TEST_PREFIX is put
# before each test's name and LABEL on each test (`ctest -R prefix`, `ctest -L label`
# select a whole executable).
function(juncture_add_test name)
  cmake_parse_arguments(ARG "" "RESOURCE_LOCK;TEST_PREFIX;LABEL" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES} ${ARG_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest GTest::gtest_main GTest::gmock)
  # Tests build IR and ABI structs with designated or partial initialisers on purpose.
  target_compile_options(${name} PRIVATE ${JUNCTURE_WARNINGS} -Wno-missing-field-initializers)
  set(properties "")
  if(ARG_RESOURCE_LOCK)
    list(APPEND properties RESOURCE_LOCK ${ARG_RESOURCE_LOCK})
  endif()
  if(ARG_LABEL)
    list(APPEND properties LABELS ${ARG_LABEL})
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60 TEST_PREFIX "${ARG_TEST_PREFIX}"
    PROPERTIES ENVIRONMENT "JUNCTURE_SOURCE_DIR=${PROJECT_SOURCE_DIR}" ${properties})
endfunction()

# juncture_add_golden_suite(NAME DIR KIND)
# Registers one ctest per case file (DIR/*.jny): the golden runner (tests/golden/
# golden_runner.py) runs `juncture KIND` on it and compares against the sibling
# `.err` / `.expected` file. Set JUNCTURE_UPDATE_GOLDEN=1 to print diffs for review.
function(juncture_add_golden_suite name dir kind)
  file(GLOB cases CONFIGURE_DEPENDS ${dir}/*.jny)
  foreach(case ${cases})
    get_filename_component(stem ${case} NAME_WE)
    add_test(NAME ${name}.${stem}
      COMMAND ${Python3_EXECUTABLE} ${PROJECT_SOURCE_DIR}/tests/golden/golden_runner.py
              $<TARGET_FILE:juncture> ${kind} ${case})
  endforeach()
endfunction()
