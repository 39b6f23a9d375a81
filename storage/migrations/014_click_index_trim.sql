-- ad_clicks_device_product (device, product, time) was written on every
-- click, at a random page (devices are random), for the one query that reads
-- clicks by device: conversion attribution, which filters by device and time
-- and then by either product column, so ad_clicks_device_time serves it as
-- well (the planner picks it once this index is gone). One index fewer is one
-- random page fewer per click: less WAL, and fewer full-page images after
-- each checkpoint.
-- Dropping takes the table's exclusive lock: behind a long reader it would
-- queue every click write behind it; give up instead (the node does not
-- start, and says why) and let the operator start it again.
SET LOCAL lock_timeout = '5s';
DROP INDEX IF EXISTS ad_clicks_device_product;
