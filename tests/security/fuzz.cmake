# Regression tests for what the fuzz targets (fuzz/) found; each program's first comment
# names the target and what it found.
pqcoap_test(fuzz_regress_block1 security ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_regress_block1.c)
pqcoap_test(fuzz_regress_store security ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_regress_store.c)
pqcoap_test(fuzz_regress_net_view security ${CMAKE_CURRENT_SOURCE_DIR}/fuzz_regress_net_view.c)
