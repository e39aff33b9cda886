//! An ordered parallel map: items are handed to the workers in turn and their results taken
//! back in the same turn, so results come out in the order the items went in, without a
//! reordering buffer. Every channel is bounded: memory stays flat however long the input.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::Scope;

/// The sending end: hands each item to the next worker.
pub struct Feed<I> {
    senders: Vec<SyncSender<I>>,
    next: usize,
}

impl<I> Feed<I> {
    /// Hands `item` to the next worker, waiting while its queue is full; false once the results
    /// are no longer wanted (the consumer stopped), when the producer should stop too.
    pub fn send(&mut self, item: I) -> bool {
        let sent = self.senders[self.next].send(item).is_ok();
        self.next = (self.next + 1) % self.senders.len();
        sent
    }
}

/// The receiving end: the results, in the order their items were sent.
pub struct Results<O> {
    receivers: Vec<Receiver<O>>,
    next: usize,
}

impl<O> Iterator for Results<O> {
    type Item = O;

    fn next(&mut self) -> Option<O> {
        // The item after the last one sent went to this worker: its channel closes once the
        // feed is dropped and it has sent everything before.
        let result = self.receivers[self.next].recv().ok()?;
        self.next = (self.next + 1) % self.receivers.len();
        Some(result)
    }
}

/// Starts one thread per worker in `scope`, each applying its function to the items it is
/// handed; at most `depth` items wait in each worker's queue and `depth` results in its output.
pub fn spawn<'scope, I, O, W>(
    scope: &'scope Scope<'scope, '_>,
    workers: Vec<W>,
    depth: usize,
) -> (Feed<I>, Results<O>)
where
    I: Send + 'scope,
    O: Send + 'scope,
    W: FnMut(I) -> O + Send + 'scope,
{
    let (mut senders, mut receivers) = (Vec::new(), Vec::new());
    for mut work in workers {
        let (item_tx, item_rx) = sync_channel::<I>(depth);
        let (result_tx, result_rx) = sync_channel::<O>(depth);
        scope.spawn(move || {
            for item in item_rx {
                if result_tx.send(work(item)).is_err() {
                    break;
                }
            }
        });
        senders.push(item_tx);
        receivers.push(result_rx);
    }
    assert!(!senders.is_empty(), "an ordered map needs a worker");
    (Feed { senders, next: 0 }, Results { receivers, next: 0 })
}

#[cfg(test)]
mod tests {
    use super::spawn;

    #[test]
    fn results_come_out_in_the_order_items_went_in() {
        for workers in [1, 2, 3, 8] {
            let out: Vec<u64> = std::thread::scope(|scope| {
                // Uneven work: later items often finish first.
                let work = |n: u64| {
                    std::thread::sleep(std::time::Duration::from_micros((n * 7919) % 300));
                    n * n
                };
                let (mut feed, results) = spawn(scope, vec![work; workers], 2);
                scope.spawn(move || {
                    for n in 0..200 {
                        assert!(feed.send(n));
                    }
                });
                results.collect()
            });
            let want: Vec<u64> = (0..200).map(|n| n * n).collect();
            assert_eq!(out, want, "{workers} workers");
        }
    }

    #[test]
    fn a_consumer_that_stops_stops_the_producer() {
        std::thread::scope(|scope| {
            let (mut feed, mut results) = spawn(scope, vec![|n: u32| n; 2], 1);
            let producer = scope.spawn(move || (0..).take_while(|&n| feed.send(n)).count());
            assert_eq!(results.next(), Some(0));
            drop(results);
            assert!(producer.join().unwrap() < 100);
        });
    }
}
