# Regression tests that kill mutants of make mutate (tests/mutation): Mode A window slots
# against forged datagrams, the server's duplicate detection keyed on the message ID, the
# Mode B session layer's bound on resending its kept response.
pqcoap_test(mutate2_modea_slots security ${CMAKE_CURRENT_SOURCE_DIR}/mutate2_modea_slots.c)
pqcoap_test(mutate2_dedup_mid security ${CMAKE_CURRENT_SOURCE_DIR}/mutate2_dedup_mid.c)
pqcoap_test(mutate2_modeb_resends security ${CMAKE_CURRENT_SOURCE_DIR}/mutate2_modeb_resends.c
  ${CMAKE_CURRENT_SOURCE_DIR}/../session/fixture.c)
