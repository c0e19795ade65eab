#!/bin/sh
# Creates the 'edgeagent' system user and adds it to the device groups that exist (gpio, i2c, spi: Raspberry Pi OS
# has them; elsewhere udev rules must grant access). Shared by install.sh and the .deb's postinst.
set -e
if ! getent passwd edgeagent >/dev/null; then
  useradd --system --home-dir /var/lib/edgeagent --no-create-home --shell /usr/sbin/nologin --user-group edgeagent
fi
for group in gpio i2c spi; do
  if getent group "$group" >/dev/null; then usermod -a -G "$group" edgeagent; fi
done
