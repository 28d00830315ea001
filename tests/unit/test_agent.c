/* Unit tests of the controller agent's pure parts: the retry backoff
 * (against a naive model, random draws) and the state files (atomic
 * write, modes, version parsing). */
#include "agent/backoff.h"
#include "agent/state_file.h"
#include "test.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static void backoff_bounds(void)
{
	srand(42);
	for (int trial = 0; trial < 200; trial++) {
		struct agent_backoff b = { 0 };
		monotime_ns model = 0;

		for (int i = 0; i < 12; i++) {
			uint32_t rnd = ((uint32_t)rand() << 16) ^ (uint32_t)rand();
			monotime_ns w = agent_backoff_next(&b, rnd);

			/* naive model: 1, 2, 4, 8, 16, 30, 30, ... seconds */
			model = model ? model * 2 : SECONDS(1);
			if (model > AGENT_BACKOFF_MAX)
				model = AGENT_BACKOFF_MAX;
			CHECK(b.delay == model);
			CHECK(w >= model / 2 && w <= model);
			CHECK(b.failures == (uint32_t)i + 1);
		}
	}
}

static void backoff_extremes_and_reset(void)
{
	struct agent_backoff b = { 0 };

	CHECK(agent_backoff_next(&b, 0) == SECONDS(1) / 2);
	CHECK(agent_backoff_next(&b, UINT32_MAX) < SECONDS(2));
	CHECK(agent_backoff_next(&b, UINT32_MAX) >= SECONDS(4) - SECONDS(1) / 1000);
	agent_backoff_reset(&b);
	CHECK(b.delay == 0 && b.failures == 0);
	CHECK(agent_backoff_next(&b, 0) == SECONDS(1) / 2);
}

static char test_dir[64];

static void state_dir_setup(void)
{
	snprintf(test_dir, sizeof(test_dir), "/tmp/test_agent.%d/a/b", (int)getpid());
	CHECK(state_file_mkdir(test_dir) == 0);
	CHECK(state_file_mkdir(test_dir) == 0);	/* idempotent */
}

static void state_write_read(void)
{
	char path[STATE_FILE_PATH_MAX], *text = NULL;
	struct stat st;

	state_dir_setup();
	CHECK(state_file_path(path, sizeof(path), test_dir, "acc1", STATE_CREDENTIAL));
	CHECK(state_file_write(path, "egn_x\n", 6, 0600) == 0);
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
	CHECK(state_file_read(path, 64, &text) == 6 && !strcmp(text, "egn_x\n"));
	free(text);
	CHECK(state_file_write(path, "egn_yy\n", 7, 0600) == 0);	/* replaces */
	CHECK(state_file_read(path, 64, &text) == 7 && !strcmp(text, "egn_yy\n"));
	free(text);
	CHECK(state_file_read(path, 3, &text) == -EFBIG);
	CHECK(state_file_read("/nonexistent/x", 3, &text) == -ENOENT);
	unlink(path);
	CHECK(!state_file_path(path, 8, test_dir, "acc1", STATE_POLICY));
}

static void state_versions(void)
{
	static const struct { const char *text; uint64_t v; } cases[] = {
		{ "3\n", 3 }, { "17", 17 }, { "", 0 }, { "x", 0 }, { "3x\n", 0 },
		{ "18446744073709551615\n", UINT64_MAX }, { "18446744073709551616", 0 },
	};
	char path[STATE_FILE_PATH_MAX];

	state_dir_setup();
	CHECK(state_file_path(path, sizeof(path), test_dir, "acc1", STATE_POLICY_VERSION));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		CHECK(state_file_write(path, cases[i].text, strlen(cases[i].text), 0600) == 0);
		CHECK(state_file_read_version(path) == cases[i].v);
	}
	unlink(path);
	CHECK(state_file_read_version(path) == 0);
}

static void state_promote(void)
{
	char from[STATE_FILE_PATH_MAX], to[STATE_FILE_PATH_MAX], *text = NULL;

	state_dir_setup();
	state_file_path(from, sizeof(from), test_dir, "n", STATE_POLICY_NEW);
	state_file_path(to, sizeof(to), test_dir, "n", STATE_POLICY);
	CHECK(state_file_write(from, "version: 1\n", 11, 0600) == 0);
	CHECK(state_file_promote(from, to) == 0);
	CHECK(access(from, F_OK) < 0);
	CHECK(state_file_read(to, 100, &text) == 11);
	free(text);
	unlink(to);
	CHECK(state_file_promote(from, to) == -ENOENT);
}

static void state_cleanup(void)
{
	char dir[64];

	snprintf(dir, sizeof(dir), "/tmp/test_agent.%d", (int)getpid());
	CHECK(rmdir(test_dir) == 0);
	*strrchr(test_dir, '/') = '\0';
	CHECK(rmdir(test_dir) == 0);
	CHECK(rmdir(dir) == 0);
}

TEST_MAIN("agent", TEST(backoff_bounds), TEST(backoff_extremes_and_reset),
	  TEST(state_write_read), TEST(state_versions), TEST(state_promote), TEST(state_cleanup))
