package dev.zkrecipes.cli;

import dev.zkrecipes.core.ConnectionLossException;
import java.net.InetAddress;
import java.net.UnknownHostException;

/** Checks a connect string before a client is built: a typo fails in one line, at once. */
final class ConnectString {

    private ConnectString() {
    }

    /**
     * @throws IllegalArgumentException if an entry is not host:port with a port from 1 to 65535
     * @throws ConnectionLossException if no host of it resolves
     */
    static void check(String connectString) {
        String servers = connectString.contains("/") ? connectString.substring(0, connectString.indexOf('/')) : connectString;
        String unresolved = null;
        boolean anyResolved = false;
        for (String entry : servers.split(",")) {
            String e = entry.strip();
            int colon = e.lastIndexOf(':');
            if (e.isEmpty() || colon <= 0 || colon == e.length() - 1) {
                throw new IllegalArgumentException("--connect '" + connectString + "': '" + e + "' is not host:port");
            }
            String host = e.substring(0, colon);
            String port = e.substring(colon + 1);
            int p;
            try {
                p = Integer.parseInt(port);
            } catch (NumberFormatException nan) {
                p = -1;
            }
            if (p < 1 || p > 65535) {
                throw new IllegalArgumentException("--connect '" + connectString + "': port '" + port
                        + "' of '" + e + "' is not a number from 1 to 65535");
            }
            try {
                InetAddress.getByName(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
                anyResolved = true;
            } catch (UnknownHostException unknown) {
                unresolved = host;
            }
        }
        if (!anyResolved) {
            throw new ConnectionLossException("--connect '" + connectString + "': host '" + unresolved
                    + "' does not resolve (no server of the ensemble can be reached)", null);
        }
    }
}
