//! Service orders (occ-lso): `submit-service-order`, `cancel-service-order`,
//! the `hold` and `resume` actions, the order state machine of occ-domain
//! §6.7, and `order-state-change` on every transition.
//!
//! A submitted order is acknowledged, then rejected at once when an `add`
//! item's service is not configured, else put in progress. Its items are
//! then fulfilled one after the other on a worker thread, each taking
//! `[occ] order-step-ms` (the simulated fulfilment time): `add` and
//! `modify` activate the service, `delete` terminates it, `no-change`
//! does nothing. A held order waits between items until resumed; a
//! cancelled one stops. The order ends completed (every item done), failed
//! (none) or partial.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use crate::datastore::Snapshot;
use crate::error::{Error, Errors};
use crate::model::occ_lso::lso::service_order::{self, order_item, OrderItem};
use crate::model::occ_lso::lso::ServiceOrder;
use crate::model::occ_lso::{self, cancel_service_order, submit_service_order, OrderStateChange};
use crate::model::occ_services::service_state_change::Cause;
use crate::model::rt::{self, Document as _, Operation as _};
use crate::model::typedefs::{DateAndTime, OccId, OrderState};
use crate::netconf::RpcCall;

use super::{internal, now, Domain};

/// What the domain keeps about a submitted order.
#[derive(Debug, Clone)]
pub(super) struct Order {
    state: OrderState,
    reason: Option<String>,
    completed_at: Option<DateAndTime>,
    milestones: Vec<(DateAndTime, String)>,
    items: HashMap<String, OrderState>,
}

fn final_state(s: OrderState) -> bool {
    matches!(
        s,
        OrderState::Rejected
            | OrderState::Completed
            | OrderState::Partial
            | OrderState::Failed
            | OrderState::Cancelled
    )
}

fn order_path(id: &OccId) -> String {
    occ_lso::lso().service_order(id.clone()).0
}

fn refused(id: &OccId, from: Option<OrderState>, what: &str) -> Errors {
    let from = from.map_or("not submitted".to_string(), |s| rt::Value::to_text(&s));
    Errors::from(
        Error::operation_failed(format!("order {} is {from}: it cannot be {what}", id.0))
            .with_app_tag("invalid-state-transition")
            .with_path(order_path(id)),
    )
}

impl Domain {
    fn orders(&self) -> std::sync::MutexGuard<'_, HashMap<String, Order>> {
        self.orders.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Moves an order (or one of its items) to `to` and announces it.
    fn order_step(
        &self,
        orders: &mut HashMap<String, Order>,
        id: &OccId,
        item: Option<&str>,
        to: OrderState,
    ) {
        let at = now();
        let Some(o) = orders.get_mut(&id.0) else { return };
        let from = match item {
            Some(i) => o.items.insert(i.to_string(), to),
            None => {
                let from = o.state;
                o.state = to;
                o.milestones.push((at.clone(), rt::Value::to_text(&to)));
                if final_state(to) {
                    o.completed_at = Some(at.clone());
                }
                Some(from)
            }
        };
        self.order_changed(id, item, from, to, at);
    }

    /// Sends `order-state-change`.
    fn order_changed(
        &self,
        id: &OccId,
        item: Option<&str>,
        from: Option<OrderState>,
        to: OrderState,
        at: DateAndTime,
    ) {
        let n = OrderStateChange {
            order_id: Some(id.clone()),
            item_id: item.map(str::to_string),
            from,
            to: Some(to),
            at: Some(at),
        };
        self.announce("order-state-change", n.to_xml(self.ctx, ""));
    }

    fn order_config(running: &Snapshot, id: &OccId) -> Result<ServiceOrder, Errors> {
        let path = order_path(id);
        let data = occ_lso::Data::from_tree_at(running.tree(), &path).map_err(internal)?;
        data.lso.service_order.get(id).cloned().ok_or_else(|| {
            Errors::from(
                Error::operation_failed(format!("order {} does not exist", id.0))
                    .with_app_tag("order-not-found")
                    .with_path(path),
            )
        })
    }

    /// `submit-service-order`.
    pub(super) fn submit_order(self: &Arc<Self>, call: &RpcCall<'_>) -> Result<String, Errors> {
        let input = submit_service_order::Input::from_tree(call.input).map_err(internal)?;
        let id = input.order_id.ok_or_else(|| Errors::from(Error::missing_element("order-id")))?;
        let running = self.ds.running();
        let cfg = Self::order_config(&running, &id)?;
        let mut orders = self.orders();
        if let Some(o) = orders.get(&id.0) {
            return Err(refused(&id, Some(o.state), "submitted again"));
        }
        let items =
            cfg.order_item.values().map(|i| (i.item_id.0.clone(), OrderState::Acknowledged)).collect();
        let at = now();
        let ack = OrderState::Acknowledged;
        let milestones = vec![(at.clone(), rt::Value::to_text(&ack))];
        orders
            .insert(id.0.clone(), Order { state: ack, reason: None, completed_at: None, milestones, items });
        self.order_changed(&id, None, None, ack, at);
        // An add item needs its service configured (with originating-order).
        let missing = cfg.order_item.values().find(|i| {
            i.action == Some(order_item::Action::Add)
                && i.service_id.as_ref().is_some_and(|s| Self::service(&running, s).is_err())
        });
        let state = if let Some(item) = missing {
            if let Some(o) = orders.get_mut(&id.0) {
                o.reason = Some(format!(
                    "item {}: service {} is not configured; configure it with originating-order {}",
                    item.item_id.0,
                    item.service_id.as_ref().map_or("", |s| s.0.as_str()),
                    id.0
                ));
            }
            self.order_step(&mut orders, &id, None, OrderState::Rejected);
            OrderState::Rejected
        } else {
            self.order_step(&mut orders, &id, None, OrderState::InProgress);
            let d = self.clone();
            let worker_id = id.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("occ-order-{}", id.0))
                .spawn(move || d.fulfil(&worker_id, &cfg));
            if let Err(e) = spawned {
                return Err(Errors::from(Error::operation_failed(format!("cannot start the order: {e}"))));
            }
            OrderState::InProgress
        };
        drop(orders);
        let out = submit_service_order::Output { state: Some(state) };
        out.reply_xml(self.ctx, call.input, Some(running.tree())).map_err(internal)
    }

    /// Waits one fulfilment step, or while the order is held; `false` when
    /// it left progress (cancelled).
    fn step_wait(&self, id: &OccId) -> bool {
        let deadline = Instant::now() + self.opts.order_step;
        let mut orders = self.orders();
        loop {
            let state = orders.get(&id.0).map(|o| o.state);
            let wait = match state {
                Some(OrderState::Held) => self.opts.order_step.max(std::time::Duration::from_millis(100)),
                Some(OrderState::InProgress) => match deadline.checked_duration_since(Instant::now()) {
                    Some(d) if !d.is_zero() => d,
                    _ => return true,
                },
                _ => return false,
            };
            orders = match self.order_cv.wait_timeout(orders, wait) {
                Ok((g, _)) => g,
                Err(e) => e.into_inner().0,
            };
        }
    }

    /// The worker of one order: its items in list order.
    fn fulfil(&self, id: &OccId, cfg: &ServiceOrder) {
        let (mut done, mut failed) = (0usize, 0usize);
        for item in cfg.order_item.values() {
            if !self.step_wait(id) {
                return;
            }
            self.order_step(&mut self.orders(), id, Some(&item.item_id.0), OrderState::InProgress);
            let result = match (item.action, item.service_id.as_ref()) {
                (Some(order_item::Action::NoChange), _) => Ok(()),
                (Some(order_item::Action::Delete), Some(s)) => self
                    .deactivate_service(s, super::lifecycle::Request::Terminate, Cause::OrderCompletion)
                    .map(|_| ()),
                (_, Some(s)) => self.activate_service(s, false, Cause::OrderCompletion).map(|_| ()),
                (_, None) => Err(Errors::from(Error::missing_element("service-id"))),
            };
            let mut orders = self.orders();
            if orders.get(&id.0).map(|o| o.state) != Some(OrderState::InProgress) {
                return;
            }
            match result {
                Ok(()) => {
                    done += 1;
                    self.order_step(&mut orders, id, Some(&item.item_id.0), OrderState::Completed);
                }
                Err(e) => {
                    failed += 1;
                    if let Some(o) = orders.get_mut(&id.0) {
                        let why = e.0.first().and_then(|e| e.message.clone()).unwrap_or_default();
                        o.reason = Some(format!("item {}: {why}", item.item_id.0));
                    }
                    self.order_step(&mut orders, id, Some(&item.item_id.0), OrderState::Failed);
                }
            }
        }
        let end = match (done, failed) {
            (_, 0) => OrderState::Completed,
            (0, _) => OrderState::Failed,
            _ => OrderState::Partial,
        };
        let mut orders = self.orders();
        if orders.get(&id.0).map(|o| o.state) == Some(OrderState::InProgress) {
            self.order_step(&mut orders, id, None, end);
        }
    }

    /// `cancel-service-order`.
    pub(super) fn cancel_order(&self, call: &RpcCall<'_>) -> Result<String, Errors> {
        let input = cancel_service_order::Input::from_tree(call.input).map_err(internal)?;
        let id = input.order_id.ok_or_else(|| Errors::from(Error::missing_element("order-id")))?;
        Self::order_config(&self.ds.running(), &id)?;
        let mut orders = self.orders();
        let from = orders.get(&id.0).map(|o| o.state);
        if from.is_none_or(final_state) {
            return Err(refused(&id, from, "cancelled"));
        }
        for to in [OrderState::AssessingCancellation, OrderState::PendingCancellation, OrderState::Cancelled]
        {
            self.order_step(&mut orders, &id, None, to);
        }
        if let Some(o) = orders.get_mut(&id.0) {
            o.reason = input.reason.clone().or(Some("cancelled by the buyer".into()));
            let open: Vec<String> =
                o.items.iter().filter(|(_, s)| !final_state(**s)).map(|(k, _)| k.clone()).collect();
            for item in open {
                self.order_step(&mut orders, &id, Some(&item), OrderState::Cancelled);
            }
        }
        self.order_cv.notify_all();
        drop(orders);
        let out = cancel_service_order::Output { state: Some(OrderState::Cancelled) };
        out.reply_xml(self.ctx, call.input, Some(self.ds.running().tree())).map_err(internal)
    }

    /// The `hold` (`hold` true) and `resume` actions.
    pub(super) fn hold_order(&self, call: &RpcCall<'_>, hold: bool) -> Result<String, Errors> {
        use service_order::{hold as h, resume as r};
        let id = if hold {
            h::Parents::from_tree(call.input).map_err(internal)?.service_order
        } else {
            r::Parents::from_tree(call.input).map_err(internal)?.service_order
        };
        let (from, to, what) = if hold {
            (OrderState::InProgress, OrderState::Held, "held")
        } else {
            (OrderState::Held, OrderState::InProgress, "resumed")
        };
        let mut orders = self.orders();
        let now_state = orders.get(&id.0).map(|o| o.state);
        if now_state != Some(from) {
            return Err(refused(&id, now_state, what));
        }
        self.order_step(&mut orders, &id, None, to);
        self.order_cv.notify_all();
        drop(orders);
        let running = self.ds.running();
        if hold {
            h::Output { state: Some(to) }.reply_xml(self.ctx, call.input, Some(running.tree()))
        } else {
            r::Output { state: Some(to) }.reply_xml(self.ctx, call.input, Some(running.tree()))
        }
        .map_err(internal)
    }

    /// The `state` of every submitted order that is still configured.
    pub(super) fn orders_state(
        &self,
        running: &crate::datastore::Snapshot,
    ) -> Result<occ_lso::Data, rt::Error> {
        let orders = self.orders().clone();
        let mut out = occ_lso::Data::default();
        if orders.is_empty() {
            return Ok(out);
        }
        let xpath = format!("{} | {}", ServiceOrder::PATH_ORDER_ID, OrderItem::PATH_ITEM_ID);
        let config = occ_lso::Data::from_tree_at(running.tree(), &xpath)?;
        for (id, cfg) in &config.lso.service_order {
            let Some(o) = orders.get(&id.0) else { continue };
            let mut entry = ServiceOrder::new(id.clone());
            for key in cfg.order_item.keys() {
                let mut item = OrderItem::new(key.clone());
                item.state.item_state = o.items.get(&key.0).copied();
                entry.order_item.insert(key.clone(), item);
            }
            entry.state = service_order::State {
                state: Some(o.state),
                state_reason: o.reason.clone(),
                completed_at: o.completed_at.clone(),
                milestone: o
                    .milestones
                    .iter()
                    .map(|(at, label)| service_order::state::Milestone {
                        at: Some(at.clone()),
                        label: Some(label.clone()),
                    })
                    .collect(),
            };
            out.lso.service_order.insert(id.clone(), entry);
        }
        Ok(out)
    }
}
