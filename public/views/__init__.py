"""Public views: pages (`pages`) and downloads (`downloads`); the API is in `public.api`."""
