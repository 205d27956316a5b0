/* A secret key file that its group or others may access is refused, as ssh refuses such a
 * private key: PQCOAP_ERR_KEYFILE and a one-line reason that names the file and the fix
 * (chmod 600). Public key files may be readable by anyone. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "pqcoap/keys.h"

int main(void)
{
    char dir[] = "/tmp/pqcoap-keys-perms-XXXXXX", key[64], pub[64], msg[512];
    CHECK(mkdtemp(dir) != NULL);
    snprintf(key, sizeof key, "%s/id.key", dir);
    snprintf(pub, sizeof pub, "%s/id.pub", dir);
    pqcoap_identity id, got;
    pqcoap_pubkey pk;
    CHECK_EQ_INT(pqcoap_identity_generate("falcon-512", NULL, &id), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_identity_save(&id, key, 0), PQCOAP_OK);
    CHECK_EQ_INT(pqcoap_pubkey_save(&id.pub, pub, 0), PQCOAP_OK);

    static const mode_t refused[] = {0640, 0604, 0644, 0660, 0606, 0620, 0602, 0610, 0601, 0666};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        CHECK(chmod(key, refused[i]) == 0);
        memset(&got, 0x5A, sizeof got);
        CHECK_EQ_INT(pqcoap_identity_load(key, &got), PQCOAP_ERR_KEYFILE);
        static const pqcoap_identity zero;
        CHECK(memcmp(&got, &zero, sizeof got) == 0); /* nothing of the key handed out */
        CHECK_EQ_INT(pqcoap_identity_load_msg(key, msg, sizeof msg, &got), PQCOAP_ERR_KEYFILE);
        CHECK(strstr(msg, key) != NULL && strstr(msg, "chmod 600") != NULL &&
              strchr(msg, '\n') == NULL);
    }
    static const mode_t accepted[] = {0600, 0400, 0700};
    for (size_t i = 0; i < sizeof accepted / sizeof accepted[0]; i++) {
        CHECK(chmod(key, accepted[i]) == 0);
        CHECK_EQ_INT(pqcoap_identity_load(key, &got), PQCOAP_OK);
        CHECK_EQ_INT(pqcoap_identity_load_msg(key, msg, sizeof msg, &got), PQCOAP_OK);
        CHECK_EQ_INT(msg[0], '\0');
    }
    CHECK(chmod(pub, 0644) == 0);
    CHECK_EQ_INT(pqcoap_pubkey_load(pub, &pk), PQCOAP_OK);

    /* the other failures have a reason that names the file too */
    CHECK_EQ_INT(pqcoap_identity_load_msg(pub, msg, sizeof msg, &got), PQCOAP_ERR_KEYFILE);
    CHECK(strstr(msg, pub) != NULL && strstr(msg, "chmod") == NULL);
    unlink(key);
    CHECK_EQ_INT(pqcoap_identity_load_msg(key, msg, sizeof msg, &got), PQCOAP_ERR_NOT_FOUND);
    CHECK(strstr(msg, key) != NULL);
    CHECK_EQ_INT(pqcoap_identity_load_msg(key, NULL, 0, &got), PQCOAP_ERR_NOT_FOUND);

    unlink(pub);
    CHECK(rmdir(dir) == 0);
    pqcoap_identity_wipe(&id);
    pqcoap_identity_wipe(&got);
    return check_done();
}
