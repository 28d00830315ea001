/* state_file: the agent's files on disk, written atomically (state_file.h). */
#include "agent/state_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const state_suffixes[] = {
	[STATE_CREDENTIAL] = "credential",
	[STATE_POLICY] = "policy.yaml",
	[STATE_POLICY_VERSION] = "policy.version",
	[STATE_POLICY_NEW] = "policy.new.yaml",
};

bool state_file_path(char *out, size_t cap, const char *dir, const char *node,
		     enum state_file_kind kind)
{
	int n = snprintf(out, cap, "%s/%s.%s", dir, node, state_suffixes[kind]);

	return n > 0 && (size_t)n < cap;
}

/* The rename is durable only once the directory entry is on disk. */
static int sync_dir_of(const char *path)
{
	char copy[STATE_FILE_PATH_MAX];
	int fd, ret = 0;

	snprintf(copy, sizeof(copy), "%s", path);
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int state_file_write(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[STATE_FILE_PATH_MAX];
	int fd, ret;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	/* O_EXCL would refuse a tmp left by a crash: remove it instead. */
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	ret = write_all(fd, data, len);
	if (ret == 0 && fchmod(fd, mode) < 0)	/* the umask may have narrowed it */
		ret = -errno;
	if (ret == 0 && fsync(fd) < 0)
		ret = -errno;
	if (close(fd) < 0 && ret == 0)
		ret = -errno;
	if (ret == 0)
		return state_file_promote(tmp, path);
	unlink(tmp);
	return ret;
}

int state_file_promote(const char *from, const char *to)
{
	if (rename(from, to) < 0)
		return -errno;
	return sync_dir_of(to);
}

ssize_t state_file_read(const char *path, size_t max, char **out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t ret;
	char *buf;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		ret = -errno;
	else if (!S_ISREG(st.st_mode))
		ret = -EINVAL;
	else if ((size_t)st.st_size > max)
		ret = -EFBIG;
	else
		ret = 0;
	if (ret < 0) {
		close(fd);
		return ret;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	ret = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (ret != st.st_size) {
		free(buf);
		return ret < 0 ? -errno : -EIO;
	}
	buf[ret] = '\0';
	*out = buf;
	return ret;
}

uint64_t state_file_read_version(const char *path)
{
	char *text = NULL, *end;
	unsigned long long v;

	if (state_file_read(path, 64, &text) < 0)
		return 0;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno || end == text || (*end && *end != '\n'))
		v = 0;
	free(text);
	return v;
}

int state_file_mkdir(const char *dir)
{
	char copy[STATE_FILE_PATH_MAX];

	if (snprintf(copy, sizeof(copy), "%s", dir) >= (int)sizeof(copy))
		return -ENAMETOOLONG;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(copy, 0700) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}
