package dev.zkrecipes.testing;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;

/**
 * The "at most one" invariant checker: samples every party's claim ({@code isLeader()},
 * {@code isValid()} of a lock handle) every 2 ms and remembers each sample in which more than one
 * claimed at once. Negative control: two parties that always claim give overlaps.
 */
public final class OverlapChecker implements AutoCloseable {

    private final Map<String, BooleanSupplier> claims;
    private final ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "overlap-checker");
        t.setDaemon(true);
        return t;
    });
    private final List<String> overlaps = new CopyOnWriteArrayList<>();
    private final AtomicLong samples = new AtomicLong();

    /** Starts sampling {@code claims} (party name → does it claim now). */
    public OverlapChecker(Map<String, BooleanSupplier> claims) {
        this.claims = new LinkedHashMap<>(claims);
        sampler.scheduleAtFixedRate(this::sample, 0, 2, TimeUnit.MILLISECONDS);
    }

    private void sample() {
        List<String> claiming = new ArrayList<>();
        claims.forEach((id, claim) -> {
            if (claim.getAsBoolean()) {
                claiming.add(id);
            }
        });
        samples.incrementAndGet();
        if (claiming.size() > 1 && overlaps.size() < 50) {
            overlaps.add(claiming + " at sample " + samples.get());
        }
    }

    /** Every sample (up to 50) in which more than one party claimed, with who. */
    public List<String> overlaps() {
        return List.copyOf(overlaps);
    }

    public long samples() {
        return samples.get();
    }

    /** Stops sampling; after it returns, no sample is taken any more. Idempotent. */
    @Override
    public void close() {
        sampler.shutdownNow();
        try {
            sampler.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
