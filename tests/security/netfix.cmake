# Regression tests of the CoAP endpoints (src/net) against hostile peers, over real UDP on
# loopback.
pqcoap_test(netfix_client_block2 security ${CMAKE_CURRENT_SOURCE_DIR}/netfix_block2.c)
pqcoap_test(netfix_server_dedup security ${CMAKE_CURRENT_SOURCE_DIR}/netfix_dedup.c)
pqcoap_test(netfix_server_bounds security ${CMAKE_CURRENT_SOURCE_DIR}/netfix_bounds.c)
