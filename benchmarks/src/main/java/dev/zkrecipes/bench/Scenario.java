package dev.zkrecipes.bench;

/**
 * One benchmark scenario, run by {@link Bench} as {@code Bench <name>}. A scenario measures
 * zk-recipes next to its Curator counterpart and the raw ZooKeeper client in the same run and prints
 * the figures with {@link Report}.
 */
public interface Scenario {

    /** Runs the scenario and prints its figures; {@code args} are what followed the name. */
    void run(String[] args) throws Exception;
}
