# Mode B (sessions) security regressions: key separation, revocation of live sessions,
# bounded retransmission answers, unprotected response codes.
set(MODEB_DIR "${CMAKE_CURRENT_SOURCE_DIR}")
pqcoap_test(modeb_key_usage security ${MODEB_DIR}/modeb_key_usage.c
  ${MODEB_DIR}/../session/fixture.c)
pqcoap_test(modeb_retransmit security ${MODEB_DIR}/modeb_retransmit.c
  ${MODEB_DIR}/../session/fixture.c)
