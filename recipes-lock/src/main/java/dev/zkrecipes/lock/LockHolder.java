package dev.zkrecipes.lock;

import dev.zkrecipes.core.FencingToken;

/**
 * One client in a lock's line, for operators: who it is, its token, and whether it holds the lock
 * (or a permit) now or waits.
 *
 * @param id the holder's id (host:pid:thread by default)
 * @param token the czxid of its node
 * @param holding true if it holds, false if it waits
 * @param kind "lock", "read", "write" or "permit"
 */
public record LockHolder(String id, FencingToken token, boolean holding, String kind) {
}
