package dev.zkrecipes.it.election;

import static org.awaitility.Awaitility.await;

import dev.zkrecipes.election.Leadership;
import dev.zkrecipes.election.LeadershipListener;
import dev.zkrecipes.election.RevocationReason;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Records every callback of one elector, with the time it arrived, for assertions. */
final class RecordingListener implements LeadershipListener {

    /** One callback: {@code reason} is null for {@code elected}. */
    record Event(long token, RevocationReason reason, long nanos) {
        boolean isElected() {
            return reason == null;
        }

        @Override
        public String toString() {
            return (reason == null ? "elected" : "revoked:" + reason) + "@" + token;
        }
    }

    private final List<Event> events = new ArrayList<>();

    @Override
    public synchronized void elected(Leadership leadership) {
        events.add(new Event(leadership.token().value(), null, System.nanoTime()));
    }

    @Override
    public synchronized void revoked(Leadership leadership, RevocationReason reason) {
        events.add(new Event(leadership.token().value(), reason, System.nanoTime()));
    }

    synchronized List<Event> events() {
        return List.copyOf(events);
    }

    synchronized long electedCount() {
        return events.stream().filter(Event::isElected).count();
    }

    synchronized Optional<Event> first(RevocationReason reason) {
        return events.stream().filter(e -> e.reason() == reason).findFirst();
    }

    synchronized Optional<Event> lastElected() {
        List<Event> elected = new ArrayList<>();
        for (Event e : events) {
            if (e.isElected()) {
                elected.add(e);
            }
        }
        return elected.isEmpty() ? Optional.empty() : Optional.of(elected.get(elected.size() - 1));
    }

    Event awaitEvent(RevocationReason reason, Duration timeout) {
        return await().atMost(timeout).until(() -> first(reason), Optional::isPresent).get();
    }

    Event awaitElected(int count, Duration timeout) {
        await().atMost(timeout).until(() -> electedCount() >= count);
        return lastElected().get();
    }
}
