CREATE TABLE `kine` (
	`id` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`name` text NOT NULL,
	`created` integer DEFAULT false NOT NULL,
	`deleted` integer DEFAULT false NOT NULL,
	`create_revision` integer DEFAULT 0 NOT NULL,
	`prev_revision` integer DEFAULT 0 NOT NULL,
	`expires_at` integer,
	`value` text
);
--> statement-breakpoint
CREATE INDEX `kine_name_id_index` ON `kine` (`name`,`id`);--> statement-breakpoint
CREATE UNIQUE INDEX `kine_name_prev_revision_uindex` ON `kine` (`name`,`prev_revision`);--> statement-breakpoint
CREATE INDEX `kine_expires_at_index` ON `kine` (`expires_at`) WHERE "kine"."expires_at" IS NOT NULL;--> statement-breakpoint
CREATE TABLE `kine_meta` (
	`key` text PRIMARY KEY NOT NULL,
	`value` integer NOT NULL
);
