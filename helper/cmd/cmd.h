/*
 * cmd.h: one function per verb of contract.md section 2, each in its own
 * helper/cmd_VERB.c.  argv[0] is the verb; each returns an enum status.
 */
#ifndef ASTRO_CRED_CMD_H
#define ASTRO_CRED_CMD_H

int cmd_get(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_erase(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_rotate(int argc, char **argv);
int cmd_create(int argc, char **argv);
int cmd_env(int argc, char **argv);
int cmd_exec(int argc, char **argv);
int cmd_check(int argc, char **argv);

/* Docker's credential-helper protocol, when invoked as docker-credential-*. */
int docker_main(int argc, char **argv);

#endif
